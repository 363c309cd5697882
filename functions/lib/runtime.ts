/**
 * Building the functions' clients from their environment, once per container. Only endpoints
 * and names come from env vars (ENV); in AWS the endpoint overrides are unset.
 */
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { createBedrockClient } from "./bedrock/client.js";
import { ENV, requireEnv } from "./env.js";
import { HttpEventPublisher } from "./relay/publisher.js";

export function region(): string {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
}

export function eventPublisherFromEnv(): HttpEventPublisher {
  return new HttpEventPublisher({
    endpoint: requireEnv(ENV.eventsHttpEndpoint),
    region: region(),
    credentials: publisherCredentials(),
  });
}

/** The role's credentials in AWS; local mode may name the local Events server's key instead. */
function publisherCredentials() {
  const accessKeyId = process.env[ENV.eventsPublisherAccessKeyId];
  const secretAccessKey = process.env[ENV.eventsPublisherSecretAccessKey];
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : defaultProvider();
}

export function dynamoDbFromEnv(): DynamoDBClient {
  const endpoint = process.env[ENV.dynamodbEndpoint];
  return new DynamoDBClient({ region: region(), ...(endpoint ? { endpoint } : {}) });
}

export function bedrockFromEnv(): BedrockRuntimeClient {
  const endpoint = process.env[ENV.bedrockEndpoint];
  return createBedrockClient(endpoint ? { endpoint } : {});
}
