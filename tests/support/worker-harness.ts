/**
 * The chat worker's real surroundings for tests: DynamoDB Local (shared, per-file table), the
 * Bedrock-compatible server, and the Events server's `/event` endpoint verifying SigV4. The
 * handler modules are imported only after their environment is set, as Lambda would.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { inject } from "vitest";
import { createFirehoseClient, FirehoseDelivery } from "../../functions/lib/analytics/firehose.js";
import { TurnRecorder } from "../../functions/lib/analytics/recorder.js";
import { createBedrockClient } from "../../functions/lib/bedrock/client.js";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { dynamoDbFromEnv, eventPublisherFromEnv } from "../../functions/lib/runtime.js";
import { ModelMetrics } from "../../functions/lib/observability/metrics.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import type { GatewayConfigInput } from "../../functions/lib/config/schema.js";
import { ENV } from "../../functions/lib/env.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE } from "../../functions/lib/tables.js";
import { PreparedCache } from "../../functions/lib/cache/store.js";
import { RunningAnswers } from "../../functions/lib/cancel/runs.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import { guardrailFromEnv } from "../../functions/lib/guardrail/settings.js";
import { startBedrockServer, type BedrockServer, type BedrockServerOptions } from "../../local/bedrock/index.js";
import { createUsageMeter, reservationLifetimeMs } from "../../functions/lib/metering/meter.js";
import { createTable, LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { startEventsServer, type EventsServer } from "../../local/events/server.js";
import { gatewayNamespaces } from "../../local/events/namespaces.js";
import { DynamoDBClient as Client } from "@aws-sdk/client-dynamodb";
import { devLikeConfig } from "./config-fixtures.js";

export const REGION = "us-east-1";

export interface WorkerHarness {
  bedrock: BedrockServer;
  events: EventsServer;
  dynamodb: DynamoDBClient;
  idempotencyTable: string;
  usageTable: string;
  conversationsTable: string;
  cacheTable: string;
  configPath: string;
  /** Outbound events published to a user's channel, in publish order. */
  outbound(sub: string): OutboundEvent[];
  close(): Promise<void>;
}

export async function startWorkerHarness(
  configInput: GatewayConfigInput,
  options: {
    logLevel?: "DEBUG" | "INFO" | "WARN";
    /** The guardrail the worker names (its environment), as local mode sets it. */
    guardrail?: { id: string; version: string };
    bedrock?: BedrockServerOptions;
  } = {},
): Promise<WorkerHarness> {
  const dynamodb = new Client({ endpoint: inject("dynamodbEndpoint"), region: REGION, credentials: LOCAL_CREDENTIALS });
  const idempotencyTable = `idempotency-${randomUUID()}`;
  const conversationsTable = `conversations-${randomUUID()}`;
  const cacheTable = `cache-${randomUUID()}`;
  const usageTable = `usage-${randomUUID()}`;
  await Promise.all([
    createTable(dynamodb, IDEMPOTENCY_TABLE, idempotencyTable),
    createTable(dynamodb, CONVERSATIONS_TABLE, conversationsTable),
    createTable(dynamodb, CACHE_TABLE, cacheTable),
    createTable(dynamodb, USAGE_TABLE, usageTable),
  ]);
  const bedrock = await startBedrockServer(options.bedrock);
  const events = await startEventsServer({
    region: REGION,
    namespaces: gatewayNamespaces(),
    auth: { verifyCognitoToken: async () => null, iamCredentials: LOCAL_CREDENTIALS },
  });
  const dir = mkdtempSync(join(tmpdir(), "gateway-config-"));
  const configPath = join(dir, "gateway-config.json");
  writeFileSync(configPath, JSON.stringify(parseGatewayConfig(configInput, { region: REGION })));

  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    [ENV.configPath]: configPath,
    [ENV.eventsHttpEndpoint]: events.httpEndpoint,
    [ENV.idempotencyTable]: idempotencyTable,
    [ENV.usageTable]: usageTable,
    [ENV.conversationsTable]: conversationsTable,
    [ENV.cacheTable]: cacheTable,
    [ENV.dynamodbEndpoint]: inject("dynamodbEndpoint"),
    [ENV.bedrockEndpoint]: bedrock.url,
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? "WARN",
  });
  if (options.guardrail) Object.assign(process.env, { [ENV.guardrailId]: options.guardrail.id, [ENV.guardrailVersion]: options.guardrail.version });
  else for (const name of [ENV.guardrailId, ENV.guardrailVersion]) delete process.env[name];

  return {
    bedrock,
    events,
    dynamodb,
    idempotencyTable,
    usageTable,
    conversationsTable,
    cacheTable,
    configPath,
    outbound: (sub) =>
      events.published
        .filter((r) => r.channel === `/Outbound-Messages/${sub}`)
        .flatMap((r) => r.events.map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as OutboundEvent)),
    async close() {
      await Promise.all([bedrock.close(), events.close()]);
      dynamodb.destroy();
    },
  };
}

/**
 * A worker for tests that read what it prints: dev-like config, deltas flushed every 20 ms, and a
 * DEBUG logger in its deps so INFO and DEBUG lines show.
 */
export async function startReportingWorker(): Promise<{ harness: WorkerHarness; deps: WorkerDeps }> {
  const harness = await startWorkerHarness({ ...devLikeConfig(), relay: { flushIntervalMs: 20 } });
  return { harness, deps: workerDeps(harness, { logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }) }) };
}

/**
 * The worker's dependencies built the way the handler builds them, from the harness's
 * environment, for tests that call functions/lib directly with settings of their own.
 */
export function workerDeps(harness: WorkerHarness, overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  const config = overrides.config ?? loadGatewayConfig();
  const dynamodb = dynamoDbFromEnv();
  return {
    config,
    bedrock: createBedrockClient({ endpoint: harness.bedrock.url }),
    publisher: eventPublisherFromEnv(),
    claim: createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: dynamoDbFromEnv(), expiresAfterSeconds: 3600 }),
    usage: createUsageMeter({
      dynamodb: dynamoDbFromEnv(),
      tableName: harness.usageTable,
      reservationTtlMs: reservationLifetimeMs(config.worker.timeoutSeconds),
    }),
    logger: new Logger({ serviceName: "test", logLevel: "CRITICAL" }),
    metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
    modelMetrics: new ModelMetrics({ namespace: "Test", serviceName: "test" }),
    conversations: new ConversationStore({ dynamodb, tableName: harness.conversationsTable, ttlDays: config.history.ttlDays }),
    cache: new PreparedCache({ dynamodb, tableName: harness.cacheTable }),
    cancels: new RunningAnswers({ dynamodb, tableName: harness.conversationsTable, runExpirySeconds: 360, pollIntervalMs: 100 }),
    guardrail: guardrailFromEnv(),
    ...overrides,
  };
}

/**
 * Turns on analytics in a worker's deps the way functions/chatWorker.ts does: a recorder
 * delivering to a Firehose endpoint (the local one, through the real SDK client) and
 * observing the deps' publisher.
 */
export function withAnalytics(
  deps: WorkerDeps,
  firehose: { endpoint: string; streamName: string },
  options: { timeoutMs?: number } = {},
): WorkerDeps & { analytics: TurnRecorder } {
  const client = createFirehoseClient({ region: REGION, endpoint: firehose.endpoint });
  const analytics = new TurnRecorder({
    config: deps.config,
    logger: deps.logger,
    metrics: deps.metrics,
    delivery: new FirehoseDelivery({ client, streamName: firehose.streamName, timeoutMs: options.timeoutMs }),
  });
  return { ...deps, analytics, publisher: analytics.observe(deps.publisher) };
}

/** A chat request as a client publishes it: a fresh requestId and conversation unless `extra` says otherwise. */
export function chatRequest(message: string, extra: Record<string, unknown> = {}) {
  return { action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message, ...extra };
}

/** One copy of the Lambda context, shared with local mode. */
export { lambdaContext } from "../../local/lambda.js";

/** An inbound publish as AppSync Events hands it to the worker (DIRECT, EVENT invoke). */
export function inboundPublish(
  sub: string,
  payloads: unknown[],
  options: { channelSub?: string; groups?: string[] | null; segments?: string[] } = {},
) {
  const channelSub = options.channelSub ?? sub;
  const segments = options.segments ?? ["Inbound-Messages", channelSub];
  return {
    identity: {
      sub,
      issuer: `http://localhost:9229/local_pool`,
      username: sub,
      claims: { sub, client_id: "client", token_use: "access", "cognito:groups": options.groups ?? undefined },
      sourceIp: ["127.0.0.1"],
      defaultAuthStrategy: "ALLOW",
      groups: options.groups ?? null,
    },
    info: {
      channel: { path: `/${segments.join("/")}`, segments },
      channelNamespace: { name: "Inbound-Messages" },
      operation: "PUBLISH" as const,
    },
    request: { headers: { authorization: "eyJhbGciOi.secret-token.sig" }, domainName: null },
    events: payloads.map((payload) => ({ id: randomUUID(), payload })),
    stash: {},
    outErrors: [],
  };
}
