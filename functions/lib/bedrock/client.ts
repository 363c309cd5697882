/**
 * The Bedrock Runtime client, created once per container. Local mode points it at the
 * Bedrock-compatible server and may hand in an HTTP/1 request handler.
 */
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";

export function createBedrockClient(options: { endpoint?: string; requestHandler?: BedrockRuntimeClientConfig["requestHandler"]; credentials?: BedrockRuntimeClientConfig["credentials"] } = {}) {
  return new BedrockRuntimeClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // The worker owns retries: a throttled call is reported to the user, not retried for minutes.
    maxAttempts: 2,
  });
}
