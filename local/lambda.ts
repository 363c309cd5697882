/**
 * Running the gateway's Lambda handlers unchanged inside the local gateway: their environment
 * is set before they are imported (they build their clients at import, like a Lambda
 * container), and each gateway gets its own instance of the handler modules, so a second
 * gateway in one process never talks to the first one's endpoints.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import type { AppSyncEventsEvent } from "../functions/lib/appsync/event.js";
import { ENV } from "../functions/lib/env.js";
import type { GatewayHandlers } from "./events/index.js";

/** A Lambda context good enough for middy and Powertools. */
export function lambdaContext(functionName = "chat-worker", options: { timeoutSeconds?: number; region?: string } = {}) {
  const deadline = Date.now() + (options.timeoutSeconds ?? 300) * 1000;
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${options.region ?? "us-east-1"}:123456789012:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface LambdaEnvironment {
  stack: string;
  region: string;
  configPath: string;
  /** Where the worker publishes (SigV4-signed). */
  eventsHttpEndpoint: string;
  /** The key the Events server accepts for IAM publishes. */
  publisherCredentials: { accessKeyId: string; secretAccessKey: string };
  idempotencyTable: string;
  dynamodbEndpoint: string;
  /** The Bedrock-compatible server; omitted to call real Bedrock. */
  bedrockEndpoint?: string;
  /**
   * Credentials for the clients on the default chain (DynamoDB, Bedrock). Omitted with real
   * Bedrock, so the developer's own chain (env, profile, SSO...) reaches AWS.
   */
  defaultCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** The worker's timeout, for `context.getRemainingTimeInMillis()`. */
  workerTimeoutSeconds: number;
}

/** The variables the handlers read; `undefined` means "must not be set". */
export function lambdaVariables(env: LambdaEnvironment): Record<string, string | undefined> {
  return {
    AWS_REGION: env.region,
    [ENV.stack]: env.stack,
    [ENV.configPath]: env.configPath,
    [ENV.eventsHttpEndpoint]: env.eventsHttpEndpoint,
    [ENV.eventsPublisherAccessKeyId]: env.publisherCredentials.accessKeyId,
    [ENV.eventsPublisherSecretAccessKey]: env.publisherCredentials.secretAccessKey,
    [ENV.idempotencyTable]: env.idempotencyTable,
    [ENV.dynamodbEndpoint]: env.dynamodbEndpoint,
    [ENV.bedrockEndpoint]: env.bedrockEndpoint,
    ...(env.defaultCredentials
      ? {
          AWS_ACCESS_KEY_ID: env.defaultCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: env.defaultCredentials.secretAccessKey,
          AWS_SESSION_TOKEN: undefined,
          AWS_PROFILE: undefined,
        }
      : {}),
    // EMF lines on stdout would drown the logs locally; POWERTOOLS_METRICS_DISABLED=false shows them.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
  };
}

/** Sets (or unsets) variables in process.env; returns a function restoring what was there. */
export function applyEnvironment(variables: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const assign = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  assign(variables);
  return () => assign(previous);
}

type WorkerModule = typeof import("../functions/chatWorker.js");
type SubscribeModule = typeof import("../functions/onSubscribe.js");

let instances = 0;

/**
 * Imports fresh instances of the onSubscribe and chat worker handlers under `env` and wraps
 * them as the Events server's namespace handlers. The caller restores the environment.
 */
export async function loadGatewayHandlers(env: LambdaEnvironment): Promise<GatewayHandlers> {
  // A query string makes a new module instance; the specifiers are variables so that the
  // TypeScript resolver does not try to resolve the query.
  const instance = `?gateway=${++instances}`;
  const workerPath = "../functions/chatWorker.js";
  const subscribePath = "../functions/onSubscribe.js";
  const worker = (await import(workerPath + instance)) as WorkerModule;
  const subscribe = (await import(subscribePath + instance)) as SubscribeModule;
  const context = (name: string, timeoutSeconds: number) =>
    lambdaContext(`ai-gateway-${env.stack}-${name}`, { timeoutSeconds, region: env.region }) as unknown as Context;
  return {
    onSubscribe: async (event) => (await subscribe.handler(event as AppSyncEventsEvent, context("subscribe-authorizer", 10))) ?? null,
    onPublish: async (event) => {
      await worker.handler(event as AppSyncEventsEvent, context("chat-worker", env.workerTimeoutSeconds));
    },
  };
}
