/**
 * Cost per 1,000 turns, model tokens excluded: the operations a turn really makes, counted on a
 * run of the worker's own code (functions/lib, the bench stack's config) over DynamoDB Local,
 * the Bedrock-compatible server and the Events server, priced with AWS's public prices
 * (prices.ts); beside the same turns answered the seed's way (seed-way.ts) in the same run.
 *
 * The turns: users asking two questions each in one conversation (a first turn, with the
 * prepared-response lookup, and a follow-up that reads the first back as history), answers of
 * `tokens` tokens streamed at `rate` tokens/s, analytics on (one Firehose record per turn).
 * Lambda's billed duration is each invocation's wall time at the worker's configured memory;
 * most of it is waiting for the model, the same either way.
 */
import { useLocalAwsEnvironment } from "./local-aws-env.js";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { encodeRecord, type RecordDelivery } from "../functions/lib/analytics/firehose.js";
import { TurnRecorder } from "../functions/lib/analytics/recorder.js";
import { createBedrockClient } from "../functions/lib/bedrock/client.js";
import { PreparedCache } from "../functions/lib/cache/store.js";
import { RunningAnswers } from "../functions/lib/cancel/runs.js";
import { ConversationStore } from "../functions/lib/conversations/store.js";
import { createUsageMeter, reservationLifetimeMs } from "../functions/lib/metering/meter.js";
import { ModelMetrics } from "../functions/lib/observability/metrics.js";
import { HttpEventPublisher } from "../functions/lib/relay/publisher.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE } from "../functions/lib/tables.js";
import type { WorkerDeps } from "../functions/lib/worker/deps.js";
import { handleInboundPublish } from "../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../functions/lib/worker/request-claim.js";
import { readStackConfig } from "../local/config.js";
import { createTable, LOCAL_CREDENTIALS, startDynamoDbLocal } from "../local/dynamodb.js";
import { lambdaContext } from "../local/lambda.js";
import { BENCH_STACK, writeBenchProject } from "./bench-stack.js";
import { countingPublisher, countRequestUnits, emptyOperations, type Operations } from "./operations.js";
import { firehoseBillableBytes, GB, PRICES } from "./prices.js";
import { startRemoteSide } from "./relay.js";
import { seedTurn } from "./seed-way.js";

const REGION = "us-east-1";

export interface CostLine {
  item: string;
  /** USD per 1,000 turns. */
  usd: number;
}

export interface CostFigures {
  turns: number;
  answerTokens: number;
  tokensPerSecond: number;
  gateway: { operations: Operations; perThousand: CostLine[]; totalPerThousand: number };
  seed: { operations: Operations; perThousand: CostLine[]; totalPerThousand: number };
  /** gateway / seed. */
  ratio: number;
}

/** USD per 1,000 turns, line by line, from counted operations. */
export function priceOperations(ops: Operations): { lines: CostLine[]; total: number } {
  const per = 1000 / ops.turns;
  const firehoseGb = firehoseBillableBytes(ops.firehoseRecordBytes) / GB;
  const lines: CostLine[] = [
    { item: "AppSync Events operations (events published + delivered)", usd: (ops.eventsPublished + ops.messagesDelivered) * PRICES.appsyncEventOperation * per },
    { item: "Lambda requests", usd: ops.lambdaInvocations * PRICES.lambdaRequest * per },
    { item: "Lambda duration (arm64 GB-s)", usd: (ops.lambdaBilledMs / 1000) * (ops.lambdaMemoryMb / 1024) * PRICES.lambdaArmGbSecond * per },
    { item: "DynamoDB write request units", usd: ops.dynamodbWriteUnits * PRICES.dynamodbWriteUnit * per },
    { item: "DynamoDB read request units", usd: ops.dynamodbReadUnits * PRICES.dynamodbReadUnit * per },
    { item: "Firehose ingestion + Parquet conversion (5 KB rounding)", usd: firehoseGb * (PRICES.firehoseIngestGb + PRICES.firehoseConversionGb) * per },
    { item: "CloudWatch PutMetricData", usd: ops.cloudwatchPutMetricData * PRICES.cloudwatchPutMetricData * per },
  ];
  return { lines, total: lines.reduce((sum, l) => sum + l.usd, 0) };
}

export async function benchCost(options: { users?: number; tokens?: number; rate?: number } = {}): Promise<CostFigures> {
  const users = options.users ?? 4;
  const tokens = options.tokens ?? 500;
  const rate = options.rate ?? 100;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  useLocalAwsEnvironment(REGION);
  const projectDir = writeBenchProject();
  const { config } = readStackConfig({ stack: BENCH_STACK, projectDir });
  rmSync(projectDir, { recursive: true, force: true });
  const [db, servers] = await Promise.all([startDynamoDbLocal({ region: REGION }), startRemoteSide()]);
  const dynamodb = new DynamoDBClient({ endpoint: db.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  const bedrock = createBedrockClient({ endpoint: servers.bedrockUrl });
  try {
    const tables = { idempotency: `idem-${randomUUID()}`, usage: `usage-${randomUUID()}`, conversations: `conv-${randomUUID()}`, cache: `cache-${randomUUID()}`, seedUsage: `seed-usage-${randomUUID()}` };
    await Promise.all([
      createTable(db.client, IDEMPOTENCY_TABLE, tables.idempotency),
      createTable(db.client, USAGE_TABLE, tables.usage),
      createTable(db.client, CONVERSATIONS_TABLE, tables.conversations),
      createTable(db.client, CACHE_TABLE, tables.cache),
      createTable(db.client, USAGE_TABLE, tables.seedUsage),
    ]);
    // Whose operations a request counts for: the turn running in this async context.
    const current = new AsyncLocalStorage<Operations>();
    countRequestUnits(dynamodb, () => current.getStore());
    const memoryMb = config.worker.memoryMb;
    const gatewayOps = emptyOperations(memoryMb);
    const seedOps = emptyOperations(memoryMb);

    const recordSizes: number[] = [];
    const delivery: RecordDelivery = {
      async deliver(records) {
        for (const r of records) recordSizes.push(encodeRecord(r).byteLength);
        return { delivered: records.length, failed: 0, errorCodes: [] };
      },
    };
    const logger = new Logger({ serviceName: "bench-cost", logLevel: "CRITICAL" });
    const metrics = new Metrics({ namespace: "Bench", serviceName: "bench" });
    const analytics = new TurnRecorder({ config, delivery, logger, metrics });
    const publisher = new HttpEventPublisher({ endpoint: servers.eventsHttpEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
    const deps: WorkerDeps = {
      config,
      bedrock,
      publisher: analytics.observe(countingPublisher(publisher, () => current.getStore())),
      analytics,
      claim: createRequestClaim({ tableName: tables.idempotency, dynamodb, expiresAfterSeconds: 3600 }),
      usage: createUsageMeter({ dynamodb, tableName: tables.usage, reservationTtlMs: reservationLifetimeMs(config.worker.timeoutSeconds) }),
      logger,
      metrics,
      modelMetrics: new ModelMetrics({ namespace: "Bench", serviceName: "bench" }),
      conversations: new ConversationStore({ dynamodb, tableName: tables.conversations, ttlDays: config.history.ttlDays }),
      cache: new PreparedCache({ dynamodb, tableName: tables.cache }),
      cancels: new RunningAnswers({ dynamodb, tableName: tables.conversations, runExpirySeconds: config.worker.timeoutSeconds + 60 }),
    };
    deps.claim.registerLambdaContext(lambdaContext("bench-cost", { timeoutSeconds: config.worker.timeoutSeconds }) as never);
    const prompt = (n: number) => `Question ${n}: tell me about serverless gateways [[fake:tokens=${tokens},rate=${rate}]]`;

    // The gateway's way: one invocation per turn, timed as Lambda bills it (until the handler returns).
    await Promise.all(
      Array.from({ length: users }, async () => {
        const user = randomUUID();
        const conversationId = randomUUID();
        for (let n = 1; n <= 2; n++) {
          await current.run(gatewayOps, async () => {
            const started = performance.now();
            const event = inboundPublish(user, { action: "chat", requestId: randomUUID(), conversationId, message: prompt(n) });
            await handleInboundPublish(deps, event as never);
            await analytics.flush();
            gatewayOps.lambdaBilledMs += Math.ceil(performance.now() - started);
            gatewayOps.lambdaInvocations++;
            gatewayOps.turns++;
          });
        }
      }),
    );
    gatewayOps.firehoseRecordBytes.push(...recordSizes);

    // The seed's way: the same questions, the same answers, its own operations.
    const meanRecord = Math.round(recordSizes.reduce((a, b) => a + b, 0) / Math.max(1, recordSizes.length));
    const seed = {
      dynamodb,
      bedrock,
      usageTable: tables.seedUsage,
      cacheTable: tables.cache,
      eventsHttpEndpoint: servers.eventsHttpEndpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      modelId: config.models.find((m) => m.default)?.id ?? config.models[0]!.id,
      firehoseRecordBytes: meanRecord,
    };
    await Promise.all(
      Array.from({ length: users }, async () => {
        const user = randomUUID();
        for (let n = 1; n <= 2; n++) await current.run(seedOps, () => seedTurn(seed, seedOps, user, prompt(n)));
      }),
    );
    publisher.destroy();

    const ours = priceOperations(gatewayOps);
    const theirs = priceOperations(seedOps);
    return {
      turns: gatewayOps.turns,
      answerTokens: tokens,
      tokensPerSecond: rate,
      gateway: { operations: gatewayOps, perThousand: ours.lines, totalPerThousand: ours.total },
      seed: { operations: seedOps, perThousand: theirs.lines, totalPerThousand: theirs.total },
      ratio: ours.total / theirs.total,
    };
  } finally {
    bedrock.destroy();
    dynamodb.destroy();
    await Promise.all([servers.stop(), db.stop()]);
  }
}

/** An inbound publish as AppSync Events hands it to the worker. */
function inboundPublish(sub: string, payload: unknown) {
  return {
    identity: { sub, issuer: "bench", username: sub, claims: { sub }, sourceIp: [], defaultAuthStrategy: "ALLOW", groups: null },
    info: { channel: { path: `/Inbound-Messages/${sub}`, segments: ["Inbound-Messages", sub] }, channelNamespace: { name: "Inbound-Messages" }, operation: "PUBLISH" },
    request: { headers: {}, domainName: null },
    events: [{ id: randomUUID(), payload }],
    stash: {},
    outErrors: [],
  };
}
