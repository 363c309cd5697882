/**
 * Cancel latency: how long after the `cancel` action is handled a running answer ends with
 * `done`/`cancelled`, when the cancel is handled by another worker instance (separate clients,
 * the signal through DynamoDB Local). Also the DynamoDB requests a running answer adds.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { createBedrockClient } from "../functions/lib/bedrock/client.js";
import { PreparedCache } from "../functions/lib/cache/store.js";
import { RunningAnswers } from "../functions/lib/cancel/runs.js";
import { parseGatewayConfig } from "../functions/lib/config/parse.js";
import { ConversationStore } from "../functions/lib/conversations/store.js";
import { ModelMetrics } from "../functions/lib/observability/metrics.js";
import type { OutboundEvent } from "../functions/lib/protocol/outbound.js";
import type { Publisher } from "../functions/lib/relay/publisher.js";
import type { WorkerDeps } from "../functions/lib/worker/deps.js";
import { handleInboundPublish } from "../functions/lib/worker/inbound.js";
import type { RequestClaim } from "../functions/lib/worker/request-claim.js";
import { startBedrockServer } from "../local/bedrock/index.js";
import { readStackConfig } from "../local/config.js";
import { createTable, LOCAL_CREDENTIALS, startDynamoDbLocal } from "../local/dynamodb.js";
import { createUsageMeter } from "../functions/lib/metering/meter.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, USAGE_TABLE } from "../functions/lib/tables.js";

export interface CancelBench {
  runs: number;
  pollIntervalMs: number;
  p50: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function benchCancel(runs = 20): Promise<CancelBench> {
  // The SDK clients read credentials from the environment, as in Lambda; EMF lines would drown the table.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  const db = await startDynamoDbLocal();
  const bedrock = await startBedrockServer();
  try {
    const conversationsTable = `conversations-${randomUUID()}`;
    const cacheTable = `cache-${randomUUID()}`;
    await createTable(db.client, CONVERSATIONS_TABLE, conversationsTable);
    await createTable(db.client, CACHE_TABLE, cacheTable);
    const usageTable = `usage-${randomUUID()}`;
    await createTable(db.client, USAGE_TABLE, usageTable);
    const config = parseGatewayConfig({ ...readStackConfig({ stack: "dev" }).config, relay: { flushIntervalMs: 20 } });
    const doneAt = new Map<string, number>();
    const publisher: Publisher = {
      publish: async (_channel, events: readonly OutboundEvent[]) => {
        for (const e of events) if (e.type === "done") doneAt.set(e.requestId, performance.now());
      },
    };
    // The claim is not what is measured here: run every request.
    const claim: RequestClaim = { runOnce: async (_key, work) => (await work({ firstSeq: Promise.resolve(0) }), { kind: "ran" }), registerLambdaContext: () => undefined };
    const pollIntervalMs = 500;
    const instance = (): WorkerDeps => ({
      config,
      bedrock: createBedrockClient({ endpoint: bedrock.url }),
      publisher,
      claim,
      logger: new Logger({ serviceName: "bench", logLevel: "CRITICAL" }),
      metrics: new Metrics({ namespace: "Bench", serviceName: "bench" }),
      modelMetrics: new ModelMetrics({ namespace: "Bench", serviceName: "bench" }),
      conversations: new ConversationStore({ dynamodb: db.client, tableName: conversationsTable, ttlDays: 1 }),
      cache: new PreparedCache({ dynamodb: db.client, tableName: cacheTable }),
      cancels: new RunningAnswers({ dynamodb: db.client, tableName: conversationsTable, runExpirySeconds: 600, pollIntervalMs }),
      usage: createUsageMeter({ dynamodb: db.client, tableName: usageTable, reservationTtlMs: 600_000 }),
    });
    const answering = instance();
    const cancelling = instance();
    const event = (sub: string, payload: Record<string, unknown>) => ({
      identity: { sub, issuer: "bench", username: sub, claims: { sub }, sourceIp: [], defaultAuthStrategy: "ALLOW", groups: null },
      info: { channel: { path: `/Inbound-Messages/${sub}`, segments: ["Inbound-Messages", sub] }, channelNamespace: { name: "Inbound-Messages" }, operation: "PUBLISH" as const },
      request: { headers: {}, domainName: null },
      events: [{ id: randomUUID(), payload }],
      stash: {},
      outErrors: [],
    });
    const latencies: number[] = [];
    for (let i = 0; i < runs; i++) {
      const sub = randomUUID();
      const requestId = randomUUID();
      const answer = handleInboundPublish(answering, event(sub, { requestId, conversationId: randomUUID(), message: "long [[fake:tokens=400,rate=40]]" }) as never);
      // Cancel at a random point of the poll cycle, once the answer is streaming.
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      await handleInboundPublish(cancelling, event(sub, { action: "cancel", requestId: randomUUID(), targetRequestId: requestId }) as never);
      const cancelledAt = performance.now();
      await answer;
      latencies.push(doneAt.get(requestId)! - cancelledAt);
    }
    latencies.sort((a, b) => a - b);
    return { runs, pollIntervalMs, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)! };
  } finally {
    await bedrock.close();
    await db.stop();
  }
}
