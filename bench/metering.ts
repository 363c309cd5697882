/**
 * Metering benchmark: the 50-request contention case. One user of a tier with a small daily
 * output limit sends 50 chats at once to the real worker lib (claim, admission, model,
 * relay, settlement) over DynamoDB Local, the Bedrock-compatible server (a model that uses
 * its whole maxTokens) and the Events server; then sequential chats until refused. Figures:
 * overshoot, utilisation, false refusals, admission latency, DynamoDB requests per turn and
 * the sequential round trips before the model call, counted by SDK middleware per turn.
 */
import { useLocalAwsEnvironment } from "./local-aws-env.js";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createBedrockClient } from "../functions/lib/bedrock/client.js";
import { parseGatewayConfig } from "../functions/lib/config/parse.js";
import { estimateInputTokens } from "../functions/lib/metering/estimate.js";
import { createUsageMeter, reservationLifetimeMs, type UsageMeter } from "../functions/lib/metering/meter.js";
import { UsageStore } from "../functions/lib/metering/store.js";
import { usageAt } from "../functions/lib/metering/usage.js";
import { ModelMetrics } from "../functions/lib/observability/metrics.js";
import type { OutboundEvent } from "../functions/lib/protocol/outbound.js";
import { HttpEventPublisher, type Publisher } from "../functions/lib/relay/publisher.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE } from "../functions/lib/tables.js";
import { PreparedCache } from "../functions/lib/cache/store.js";
import { RunningAnswers } from "../functions/lib/cancel/runs.js";
import { ConversationStore } from "../functions/lib/conversations/store.js";
import type { WorkerDeps } from "../functions/lib/worker/deps.js";
import { handleInboundPublish } from "../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../functions/lib/worker/request-claim.js";
import { createTable, LOCAL_CREDENTIALS, startDynamoDbLocal } from "../local/dynamodb.js";
import { lambdaContext } from "../local/lambda.js";
import { percentile, startRemoteSide } from "./relay.js";

const REGION = "us-east-1";
const MODEL = "us.amazon.nova-lite-v1:0";
const SYSTEM = "You are a helpful assistant.";

/**
 * Per turn: its DynamoDB requests, and the sequential round trips before the model call. A
 * request's round trip is one more than the deepest of the turn's requests that had completed
 * when it was sent (requests in flight together share a round trip); `beforeModel` is the
 * deepest completed when the model was called: the length of the turn's critical path.
 */
interface TurnTrace {
  dynamodb: number;
  /** Requests sent before the model call. */
  dynamodbBeforeModel: number | undefined;
  /** Deepest round trip completed so far. */
  depth: number;
  beforeModel: number | undefined;
}

export async function benchMetering(options: { burst?: number; dailyOutputLimit?: number; perRequest?: number } = {}) {
  const burst = options.burst ?? 50;
  const limit = options.dailyOutputLimit ?? 1013;
  const perRequest = options.perRequest ?? 100;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  useLocalAwsEnvironment(REGION);
  const [db, servers] = await Promise.all([startDynamoDbLocal({ region: REGION }), startRemoteSide()]);
  try {
    const idempotencyTable = `idempotency-${randomUUID()}`;
    const usageTable = `usage-${randomUUID()}`;
    await createTable(db.client, IDEMPOTENCY_TABLE, idempotencyTable);
    await createTable(db.client, USAGE_TABLE, usageTable);
    const conversationsTable = `conversations-${randomUUID()}`;
    const cacheTable = `cache-${randomUUID()}`;
    await createTable(db.client, CONVERSATIONS_TABLE, conversationsTable);
    await createTable(db.client, CACHE_TABLE, cacheTable);

    // Which turn an SDK call belongs to, and the counting middleware on both clients.
    const turnOf = new AsyncLocalStorage<TurnTrace>();
    const dynamodb = new DynamoDBClient({ endpoint: db.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
    dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const trace = turnOf.getStore();
        const depth = (trace?.depth ?? 0) + 1;
        if (trace) trace.dynamodb++;
        try {
          return await next(args);
        } finally {
          if (trace) trace.depth = Math.max(trace.depth, depth);
        }
      },
      { step: "initialize", name: "countRequestsPerTurn" },
    );
    const bedrock = createBedrockClient({ endpoint: servers.bedrockUrl });
    bedrock.middlewareStack.add(
      (next) => async (args) => {
        const trace = turnOf.getStore();
        if (trace && trace.beforeModel === undefined) {
          trace.beforeModel = trace.depth;
          trace.dynamodbBeforeModel = trace.dynamodb;
        }
        return next(args);
      },
      { step: "initialize", name: "markModelCall" },
    );

    const config = parseGatewayConfig(
      {
        models: [{ id: MODEL, name: "Nova Lite", provider: "Amazon", maxOutputTokens: 5000, default: true }],
        systemPrompt: SYSTEM,
        tiers: {
          default: {
            priority: 0,
            models: ["*"],
            limits: { daily: { inputTokens: 1_000_000, outputTokens: limit }, monthly: { inputTokens: 10_000_000, outputTokens: 1_000_000 } },
            maxOutputTokensPerRequest: perRequest,
            maxConcurrentRequests: 100,
          },
        },
      },
      { region: REGION },
    );
    const meter = createUsageMeter({ dynamodb, tableName: usageTable, reservationTtlMs: reservationLifetimeMs(config.worker.timeoutSeconds) });
    const admissionMs: number[] = [];
    const timedMeter: UsageMeter = {
      ...meter,
      async admit(request, prefetched) {
        const started = performance.now();
        try {
          return await meter.admit(request, prefetched);
        } finally {
          admissionMs.push(performance.now() - started);
        }
      },
    };
    const finals = new Map<string, OutboundEvent>();
    const inner = new HttpEventPublisher({ endpoint: servers.eventsHttpEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
    const publisher: Publisher = {
      async publish(channel, events) {
        for (const e of events) if (e.type === "done" || e.type === "error") finals.set(e.requestId, e);
        await inner.publish(channel, events);
      },
    };
    const deps: WorkerDeps = {
      config,
      bedrock,
      publisher,
      claim: createRequestClaim({ tableName: idempotencyTable, dynamodb, expiresAfterSeconds: 3600 }),
      usage: timedMeter,
      logger: new Logger({ serviceName: "bench", logLevel: "CRITICAL" }),
      metrics: new Metrics({ namespace: "Bench", serviceName: "bench" }),
      modelMetrics: new ModelMetrics({ namespace: "Bench", serviceName: "bench" }),
      conversations: new ConversationStore({ dynamodb, tableName: conversationsTable, ttlDays: 1 }),
      cache: new PreparedCache({ dynamodb, tableName: cacheTable }),
      cancels: new RunningAnswers({ dynamodb, tableName: conversationsTable, runExpirySeconds: 600 }),
    };

    // As the handler does per invocation: the claim's in-progress expiry follows Lambda's deadline.
    deps.claim.registerLambdaContext(lambdaContext("bench-worker", { timeoutSeconds: 900 }) as never);

    const traces = new Map<string, TurnTrace>();
    const turn = (user: string, message: string) => {
      const requestId = randomUUID();
      const trace: TurnTrace = { dynamodb: 0, dynamodbBeforeModel: undefined, depth: 0, beforeModel: undefined };
      traces.set(requestId, trace);
      const payload = { action: "chat", requestId, conversationId: randomUUID(), message };
      const event = publishEvent(user, payload);
      return turnOf.run(trace, () => handleInboundPublish(deps, event as never)).then(() => ({ requestId, message }));
    };

    // Warm-up on another user: connections open, code paths compiled.
    // (A Cognito sub is a UUID: anything else is refused before the claim.)
    const warmupUser = randomUUID();
    for (let i = 0; i < 3; i++) await turn(warmupUser, "warm up [[fake:tokens=5]]");
    traces.clear();
    admissionMs.length = 0;

    // One uncontended turn of a fresh user: the baseline round trips.
    const single = await turn(randomUUID(), "alone [[fake:tokens=5]]");
    const singleTrace = traces.get(single.requestId)!;
    traces.clear();
    admissionMs.length = 0;

    const user = randomUUID();
    const burstTurns = await Promise.all(Array.from({ length: burst }, (_, i) => turn(user, `Burst ${i} [[fake:tokens=1000,delay=100]]`)));
    const burstAdmissionMs = [...admissionMs];
    const burstTraces = burstTurns.map((t) => traces.get(t.requestId)!);
    const sequential: { requestId: string; message: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const t = await turn(user, `After ${i} [[fake:tokens=1000]]`);
      sequential.push(t);
      if (finals.get(t.requestId)?.type === "error") break;
    }

    const store = new UsageStore(dynamodb, usageTable);
    const usage = usageAt((await store.readPartition(user)).record, Date.now());
    const { tiers } = config;
    const lim = tiers.default!.limits;
    const overshoot = Math.max(
      0,
      usage.daily.outputTokens - lim.daily.outputTokens,
      usage.daily.inputTokens - lim.daily.inputTokens,
      usage.monthly.outputTokens - lim.monthly.outputTokens,
      usage.monthly.inputTokens - lim.monthly.inputTokens,
    );
    const all = [...burstTurns, ...sequential];
    const refusals = all.filter((t) => finals.get(t.requestId)?.type === "error");
    // A refusal was false if, with everything settled, what it needed was still there.
    const outputLeft = lim.daily.outputTokens - usage.daily.outputTokens;
    const inputLeft = lim.daily.inputTokens - usage.daily.inputTokens;
    const falseRefusals = refusals.filter((t) => {
      const e = finals.get(t.requestId)!;
      if (e.type !== "error" || e.code !== "limit_exceeded") return true;
      return outputLeft >= 1 && inputLeft >= estimateInputTokens(SYSTEM, [{ text: t.message }]);
    }).length;
    const admitted = burstTraces.filter((t) => t.beforeModel !== undefined);
    bedrock.destroy();
    dynamodb.destroy();
    return {
      burst,
      limit,
      perRequest,
      answered: all.length - refusals.length,
      refused: refusals.length,
      settledOutput: usage.daily.outputTokens,
      overshoot,
      utilisation: usage.daily.outputTokens / lim.daily.outputTokens,
      falseRefusals,
      admissionP50: percentile(burstAdmissionMs, 50),
      admissionP99: percentile(burstAdmissionMs, 99),
      single: { dynamodb: singleTrace.dynamodb, dynamodbBeforeModel: singleTrace.dynamodbBeforeModel ?? 0, beforeModel: singleTrace.beforeModel ?? 0 },
      burstBeforeModel: {
        p50: percentile(admitted.map((t) => t.beforeModel!), 50),
        max: Math.max(...admitted.map((t) => t.beforeModel!)),
      },
      burstDynamodbPerTurn: {
        answered: percentile(admitted.map((t) => t.dynamodb), 50),
        refused: percentile(burstTraces.filter((t) => t.beforeModel === undefined).map((t) => t.dynamodb), 50),
      },
    };
  } finally {
    await Promise.all([servers.stop(), db.stop()]);
  }
}

/** An inbound publish as AppSync hands it to the worker. */
function publishEvent(sub: string, payload: unknown) {
  return {
    identity: { sub, issuer: "bench", username: sub, claims: { sub }, sourceIp: [], defaultAuthStrategy: "ALLOW", groups: null },
    info: {
      channel: { path: `/Inbound-Messages/${sub}`, segments: ["Inbound-Messages", sub] },
      channelNamespace: { name: "Inbound-Messages" },
      operation: "PUBLISH",
    },
    request: { headers: {}, domainName: null },
    events: [{ id: randomUUID(), payload }],
    stash: {},
    outErrors: [],
  };
}
