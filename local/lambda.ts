/**
 * Running the gateway's Lambda handlers unchanged inside the local gateway: their environment
 * is set before they are imported (they build their clients at import, like a Lambda
 * container), each container is its own instance of the handler module, and a second gateway
 * in one process never talks to the first one's endpoints.
 */
import { randomUUID } from "node:crypto";
import type { Context, SQSEvent } from "aws-lambda";
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
  /** The key the Events server accepts for IAM publishes: made at each start, never on disk. */
  publisherCredentials: { accessKeyId: string; secretAccessKey: string };
  idempotencyTable: string;
  usageTable: string;
  conversationsTable: string;
  cacheTable: string;
  /** The guardrail the worker names in its model calls (the model server honours it); absent when off. */
  guardrail?: { id: string; version: string };
  dynamodbEndpoint: string;
  /** The Bedrock-compatible server; omitted to call real Bedrock. */
  bedrockEndpoint?: string;
  /**
   * Credentials for the clients on the default chain (DynamoDB, Bedrock). Omitted with real
   * Bedrock, so the developer's own chain (env, profile, SSO...) reaches AWS.
   */
  defaultCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** The local Firehose and its stream, when the stack has analytics on. */
  analytics?: { streamName: string; firehoseEndpoint: string };
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
    [ENV.usageTable]: env.usageTable,
    [ENV.conversationsTable]: env.conversationsTable,
    [ENV.cacheTable]: env.cacheTable,
    [ENV.guardrailId]: env.guardrail?.id,
    [ENV.guardrailVersion]: env.guardrail?.version,
    [ENV.dynamodbEndpoint]: env.dynamodbEndpoint,
    [ENV.bedrockEndpoint]: env.bedrockEndpoint,
    [ENV.analyticsStream]: env.analytics?.streamName,
    [ENV.firehoseEndpoint]: env.analytics?.firehoseEndpoint,
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
type DeadLetterModule = typeof import("../functions/dlqConsumer.js");

/**
 * Execution environments of one function, as Lambda runs them: each serves one invocation at a
 * time (Powertools' Logger and Metrics, and the idempotency context, are per container and
 * assume exactly that); a busy function gets a new one (a cold start) up to its concurrency
 * limit, beyond which invocations wait, as throttled async invocations are retried by Lambda.
 */
export class FunctionContainers<T> {
  private readonly idle: T[] = [];
  private readonly waiting: { resolve: (container: T) => void; timer?: NodeJS.Timeout }[] = [];
  private created = 0;

  constructor(
    private readonly create: () => Promise<T>,
    readonly maxConcurrency: number,
    /**
     * Bounds on invocations waiting for a container: how many, and for how long (Lambda
     * drops an async event older than its maximum event age). Past either, invoke() rejects
     * with InvocationDropped. @default unbounded
     */
    private readonly waitBounds: { maxWaiting?: number; maxWaitMs?: number } = {},
  ) {}

  /** Starts the first container now, so a handler that fails at import fails the start. */
  async warm(): Promise<void> {
    this.created++;
    this.idle.push(await this.create());
  }

  get size(): number {
    return this.created;
  }

  async invoke<R>(run: (container: T) => Promise<R>): Promise<R> {
    const container = await this.acquire();
    try {
      return await run(container);
    } finally {
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.resolve(container);
      } else this.idle.push(container);
    }
  }

  /** Invocations waiting for a container. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  private wait(): Promise<T> {
    const { maxWaiting = Infinity, maxWaitMs } = this.waitBounds;
    if (this.waiting.length >= maxWaiting) return Promise.reject(new InvocationDropped("WaitingListFull"));
    return new Promise<T>((resolve, reject) => {
      const entry: (typeof this.waiting)[number] = { resolve };
      if (maxWaitMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(entry), 1);
          reject(new InvocationDropped("EventAgeExceeded"));
        }, maxWaitMs);
        entry.timer.unref();
      }
      this.waiting.push(entry);
    });
  }

  private async acquire(): Promise<T> {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.created >= this.maxConcurrency) return this.wait();
    this.created++;
    try {
      return await this.create();
    } catch (err) {
      this.created--;
      throw err;
    }
  }
}

/**
 * An invocation that never ran: the waiting list was full, or it waited longer than the
 * function's maximum event age. `condition` is what Lambda's on-failure record would carry
 * (`EventAgeExceeded`), or `WaitingListFull` for the local bound.
 */
export class InvocationDropped extends Error {
  constructor(readonly condition: "EventAgeExceeded" | "WaitingListFull") {
    super(`invocation dropped: ${condition}`);
    this.name = "InvocationDropped";
  }
}

let instances = 0;
let importing: Promise<unknown> = Promise.resolve();

/**
 * A fresh instance of a handler module (a query string makes a new module instance), imported
 * under the gateway's own environment: imports are serialized so two gateways in one process
 * never see each other's variables while a handler builds its clients.
 */
function importHandler<T>(specifier: string, variables: Record<string, string | undefined>): Promise<T> {
  const imported = importing.then(async () => {
    const restore = applyEnvironment(variables);
    try {
      return (await import(`${specifier}?instance=${++instances}`)) as T;
    } finally {
      restore();
    }
  });
  importing = imported.catch(() => undefined);
  return imported;
}

/** Concurrency of the subscription authorizer, which has no reserved concurrency of its own. */
const AUTHORIZER_CONCURRENCY = 50;
/** Chat invocations that may wait for a worker container; more are dead-lettered at once. */
export const MAX_WAITING_INVOCATIONS = 1000;

export interface GatewayHandlerOptions {
  workerConcurrency: number;
  /** How long an invocation may wait for a worker before it is dead-lettered. @default unbounded */
  maximumEventAgeSeconds?: number;
  /** @default MAX_WAITING_INVOCATIONS */
  maxWaitingInvocations?: number;
}

/**
 * The onSubscribe and chat worker handlers as the Events server's namespace handlers, each
 * running in its own containers; the worker's concurrency is its reserved concurrency. A chat
 * invocation that cannot get a worker in time, or finds the waiting list full, goes where
 * Lambda sends it: an on-failure record handed to the dead-letter consumer, which tells the user.
 */
export async function loadGatewayHandlers(env: LambdaEnvironment, options: GatewayHandlerOptions): Promise<GatewayHandlers> {
  const variables = lambdaVariables(env);
  // The specifiers are variables so that TypeScript does not try to resolve the query string.
  const workerPath = "../functions/chatWorker.js";
  const subscribePath = "../functions/onSubscribe.js";
  const deadLetterPath = "../functions/dlqConsumer.js";
  const workers = new FunctionContainers(() => importHandler<WorkerModule>(workerPath, variables), options.workerConcurrency, {
    maxWaiting: options.maxWaitingInvocations ?? MAX_WAITING_INVOCATIONS,
    maxWaitMs: options.maximumEventAgeSeconds === undefined ? undefined : options.maximumEventAgeSeconds * 1000,
  });
  const authorizers = new FunctionContainers(() => importHandler<SubscribeModule>(subscribePath, variables), AUTHORIZER_CONCURRENCY);
  const deadLetters = new FunctionContainers(() => importHandler<DeadLetterModule>(deadLetterPath, variables), 1);
  await Promise.all([workers.warm(), authorizers.warm()]);
  const context = (name: string, timeoutSeconds: number) =>
    lambdaContext(`ai-gateway-${env.stack}-${name}`, { timeoutSeconds, region: env.region }) as unknown as Context;
  const deadLetter = (event: unknown, condition: InvocationDropped["condition"]) =>
    deadLetters.invoke(async ({ handler }) => {
      const record = { requestContext: { condition, approximateInvokeCount: 0 }, requestPayload: event };
      const sqsRecord = { messageId: randomUUID(), body: JSON.stringify(record) };
      await handler({ Records: [sqsRecord] } as unknown as SQSEvent, context("dead-letter-notifier", 30));
    });
  return {
    onSubscribe: (event) =>
      authorizers.invoke(async ({ handler }) => (await handler(event as AppSyncEventsEvent, context("subscribe-authorizer", 10))) ?? null),
    onPublish: (event) =>
      workers
        .invoke(async ({ handler }) => {
          await handler(event as AppSyncEventsEvent, context("chat-worker", env.workerTimeoutSeconds));
        })
        .catch((err: unknown) => {
          if (err instanceof InvocationDropped) return deadLetter(event, err.condition);
          throw err;
        }),
  };
}
