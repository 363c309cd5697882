/**
 * The fault matrix: each fault a production gateway meets, injected into the real chat worker
 * (its handler, or functions/lib with the handler's own wiring) over DynamoDB Local, the
 * Bedrock-compatible server and the Events server. Each fault has its defined outcome (DESIGN
 * 2 and 5, protocol v1 in README), and every case ends with the user's usage read back through
 * functions/lib/metering: settled = what the model reported (or the documented estimate when
 * it reported nothing), and no reservation left. The client that goes away mid-answer is in
 * client-gone.test.ts (it needs the whole local gateway).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import type { GatewayConfigInput } from "../../functions/lib/config/schema.js";
import { PreparedCache } from "../../functions/lib/cache/store.js";
import { RunningAnswers } from "../../functions/lib/cancel/runs.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import { tokenBound } from "../../functions/lib/metering/estimate.js";
import { createUsageMeter, reservationLifetimeMs } from "../../functions/lib/metering/meter.js";
import { METRIC, ModelMetrics, reportMetricsFailure } from "../../functions/lib/observability/metrics.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { HttpEventPublisher } from "../../functions/lib/relay/publisher.js";
import { resolveTier } from "../../functions/lib/routing/tier.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { fakeAnswer, splitTokens } from "../../local/bedrock/index.js";
import { freePort } from "../../local/ports.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO } from "../support/config-fixtures.js";
import { failingDynamoDb } from "../support/failing-dynamodb.js";
import { chatRequest, inboundPublish, lambdaContext, REGION, startWorkerHarness, withAnalytics, workerDeps, type WorkerHarness } from "../support/worker-harness.js";
import { expectNoUsageRows, expectSettled, inputEstimateOf, reportedBy, usageOf } from "./metering-assertions.js";

const CONFIG: GatewayConfigInput = { ...devLikeConfig(), fallbackModels: [MODEL_NOVA_PRO], relay: { flushIntervalMs: 20 } };
let harness: WorkerHarness;
let handler: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  harness = await startWorkerHarness(CONFIG);
  ({ handler } = (await import("../../functions/chatWorker.js")) as never);
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const chat = chatRequest;
const invoke = (event: unknown) => handler(event, lambdaContext());
const ofRequest = (user: string, requestId: string) => harness.outbound(user).filter((e) => e.requestId === requestId);
const streamedText = (events: OutboundEvent[]) => events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");
const doneOf = (events: OutboundEvent[]) => {
  const last = events.at(-1);
  if (last?.type !== "done") throw new Error(`expected the request to end with done, got ${JSON.stringify(last)}`);
  return last;
};

describe("the model throttles before the stream", () => {
  it("falls back to the next model, which answers; only its reported tokens are charged", async () => {
    const user = randomUUID();
    harness.bedrock.configure({ fault: "throttle", faultTimes: 1 });
    const request = chat("Busy default model [[fake:tokens=12]]");
    await invoke(inboundPublish(user, [request]));

    const events = ofRequest(user, request.requestId);
    expect(events[0]).toMatchObject({ type: "start", modelId: MODEL_NOVA_PRO, seq: 0 });
    expect(doneOf(events)).toMatchObject({ stopReason: "end_turn", usage: harness.bedrock.requests[1]!.usage });
    expect(harness.bedrock.requests.map((r) => [r.modelId, r.outcome])).toEqual([
      [MODEL_NOVA_LITE, "rejected"],
      [MODEL_NOVA_PRO, "end_turn"],
    ]);
    await expectSettled(harness, user, harness.bedrock.requests[1]!.usage!);
  });

  it("without a fallback, answers model_throttled, charges nothing, and answers a resend of the same requestId", async () => {
    const user = randomUUID();
    harness.bedrock.configure({ fault: "throttle", faultTimes: 1 });
    // A request that names its model is never swapped to another one.
    const request = chat("Only this model [[fake:tokens=9]]", { modelId: MODEL_NOVA_LITE });
    await invoke(inboundPublish(user, [request]));
    expect(ofRequest(user, request.requestId)).toEqual([
      expect.objectContaining({ type: "error", code: "model_throttled", seq: 0, retryAfterSeconds: expect.any(Number) }),
    ]);
    await expectSettled(harness, user, { inputTokens: 0, outputTokens: 0 });

    await invoke(inboundPublish(user, [request]));
    const retry = ofRequest(user, request.requestId).slice(1);
    // The retry numbers on from the failed attempt, so a client ordering by seq keeps it.
    expect(retry[0]).toMatchObject({ type: "start", modelId: MODEL_NOVA_LITE, seq: 1 });
    expect(retry.map((e) => e.seq)).toEqual(retry.map((_, i) => i + 1));
    expect(doneOf(retry).usage).toEqual(harness.bedrock.requests[1]!.usage);
    expect(harness.bedrock.requests.map((r) => r.outcome)).toEqual(["rejected", "end_turn"]);
    await expectSettled(harness, user, reportedBy(harness.bedrock.requests));
  });
});

describe("the model fails mid-stream", () => {
  it("ends with model_error after start and charges the streamed part and the input estimate", async () => {
    const user = randomUUID();
    const request = chat("Break halfway [[fake:tokens=40,fault=midstream,after=10]]");
    await invoke(inboundPublish(user, [request]));

    const events = ofRequest(user, request.requestId);
    expect(events[0]).toMatchObject({ type: "start" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_error" });
    expect(events.filter((e) => e.type === "error" || e.type === "done")).toHaveLength(1);
    const [model] = harness.bedrock.requests;
    expect(model).toMatchObject({ outcome: "stream_error", deltasSent: 10 });
    expect(model!.usage).toBeUndefined();
    // The model reported nothing: the documented estimate (README "How limits work").
    await expectSettled(harness, user, { inputTokens: inputEstimateOf(model!), outputTokens: tokenBound(streamedText(events)) });

    // model_error is final for its request id: a resend gets the same outcome, not a second charge.
    await invoke(inboundPublish(user, [request]));
    expect(ofRequest(user, request.requestId).at(-1)).toEqual(events.at(-1));
    expect(harness.bedrock.requests).toHaveLength(1);
    await expectSettled(harness, user, { inputTokens: inputEstimateOf(model!), outputTokens: tokenBound(streamedText(events)) });
  });
});

describe("the model hangs", () => {
  it("is cut off at the idle timeout with model_unavailable; nothing is charged and no reservation stays", async () => {
    const user = randomUUID();
    const deps = workerDeps(harness, { modelIdleTimeoutMs: 300 });
    const request = chat("Anyone there? [[fake:fault=hang]]");
    await handleInboundPublish(deps, inboundPublish(user, [request]));

    expect(ofRequest(user, request.requestId)).toEqual([
      expect.objectContaining({ type: "error", code: "model_unavailable", seq: 0, retryAfterSeconds: expect.any(Number) }),
    ]);
    await harness.bedrock.idle();
    // The default model and its fallback both hung; both calls were closed, neither answered.
    expect(harness.bedrock.requests.map((r) => [r.modelId, r.outcome])).toEqual([
      [MODEL_NOVA_LITE, "client_aborted"],
      [MODEL_NOVA_PRO, "client_aborted"],
    ]);
    await expectSettled(harness, user, { inputTokens: 0, outputTokens: 0 });
  });
});

describe("DynamoDB is unavailable", () => {
  it("fails closed when usage cannot be read: internal_error, no model call, nothing written", async () => {
    const user = randomUUID();
    const store = failingDynamoDb("GetItemCommand", Infinity);
    try {
      const usage = createUsageMeter({ dynamodb: store.client, tableName: harness.usageTable, reservationTtlMs: 60_000 });
      const request = chat("Can I go? [[fake:tokens=5]]");
      await handleInboundPublish(workerDeps(harness, { usage }), inboundPublish(user, [request]));
      expect(ofRequest(user, request.requestId)).toEqual([
        expect.objectContaining({ type: "error", code: "internal_error", seq: 0, conversationId: request.conversationId }),
      ]);
      expect(store.failed.length).toBeGreaterThan(0);
      expect(harness.bedrock.requests).toHaveLength(0);
      await expectNoUsageRows(harness, user);
    } finally {
      store.client.destroy();
    }
  });

  it("fails closed when no table answers at all: one internal_error and no model call", async () => {
    const user = randomUUID();
    const down = new DynamoDBClient({ endpoint: `http://127.0.0.1:${await freePort()}`, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const config = parseGatewayConfig(CONFIG, { region: REGION });
      const deps = workerDeps(harness, {
        config,
        claim: createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: down, expiresAfterSeconds: 3600 }),
        usage: createUsageMeter({ dynamodb: down, tableName: harness.usageTable, reservationTtlMs: 60_000 }),
        conversations: new ConversationStore({ dynamodb: down, tableName: harness.conversationsTable, ttlDays: 30 }),
        cache: new PreparedCache({ dynamodb: down, tableName: harness.cacheTable }),
        cancels: new RunningAnswers({ dynamodb: down, tableName: harness.conversationsTable, runExpirySeconds: 360 }),
      });
      const request = chat("Hello? [[fake:tokens=5]]");
      await handleInboundPublish(deps, inboundPublish(user, [request]));
      expect(ofRequest(user, request.requestId)).toEqual([expect.objectContaining({ type: "error", code: "internal_error", seq: 0 })]);
      expect(harness.bedrock.requests).toHaveLength(0);
      await expectNoUsageRows(harness, user);
    } finally {
      down.destroy();
    }
  });
});

describe("Firehose and metrics are unavailable", () => {
  it("completes the turn, charges what the model reported, and logs and counts both failures", async () => {
    const user = randomUUID();
    const unreachableFirehose = `http://127.0.0.1:${await freePort()}`;
    const warnings: string[] = [];
    const emf: Record<string, unknown>[] = [];
    // Powertools writes through the global console in dev mode (metrics stay on when
    // POWERTOOLS_METRICS_DISABLED says so): EMF with console.log, WARN with console.warn. A
    // console.log that throws is metrics that cannot be recorded.
    Object.assign(process.env, { POWERTOOLS_DEV: "true", POWERTOOLS_METRICS_DISABLED: "false" });
    const warn = vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));
    const log = vi.spyOn(console, "log").mockImplementation(() => {
      throw new Error("stdout is gone");
    });
    try {
      const logger = new Logger({ serviceName: "faults", logLevel: "WARN" });
      const metrics = new Metrics({ namespace: "Faults", serviceName: "faults" });
      const modelMetrics = new ModelMetrics({ namespace: "Faults", serviceName: "faults" }, reportMetricsFailure(logger, metrics));
      const deps = withAnalytics(workerDeps(harness, { logger, metrics, modelMetrics }), { endpoint: unreachableFirehose, streamName: "turns" }, { timeoutMs: 1000 });
      const request = chat("Still answer me [[fake:tokens=15]]");
      await handleInboundPublish(deps, inboundPublish(user, [request]));
      // What the handler does before returning; it never throws.
      await deps.analytics.flush();

      const events = ofRequest(user, request.requestId);
      expect(events.map((e) => e.type).join(" ")).toMatch(/^start (delta )+done$/);
      expect(doneOf(events).usage).toEqual(harness.bedrock.requests[0]!.usage);
      await expectSettled(harness, user, harness.bedrock.requests[0]!.usage!);

      const logged = warnings.filter((w) => w.startsWith("{")).map((w) => (JSON.parse(w) as { message: string }).message);
      expect(logged).toEqual(expect.arrayContaining(["metrics not recorded", "analytics records not delivered"]));
      log.mockImplementation((line: unknown) => void emf.push(JSON.parse(String(line))));
      metrics.publishStoredMetrics();
      expect(emf).toHaveLength(1);
      expect(emf[0]![METRIC.metricsFailures]).toBeGreaterThanOrEqual(1);
      expect(emf[0]![METRIC.analyticsDeliveryFailures]).toBe(1);
    } finally {
      log.mockRestore();
      warn.mockRestore();
      delete process.env.POWERTOOLS_DEV;
      delete process.env.POWERTOOLS_METRICS_DISABLED;
    }
  });
});

/**
 * The worker's own publisher, pointed at a loopback front of the Events server that answers
 * 503 on the publishes `fails(n)` picks (n counts from 1) and passes the others through
 * unchanged (Host included, so their signatures still verify).
 */
async function flakyPublisher(fails: (call: number) => boolean) {
  let calls = 0;
  const refused: number[] = [];
  const target = new URL(harness.events.httpEndpoint);
  const front = createServer((req, res) => {
    calls++;
    if (fails(calls)) {
      refused.push(calls);
      req.resume();
      res.writeHead(503, { "content-type": "application/json" }).end('{"errors":[{"errorType":"ServiceUnavailable"}]}');
      return;
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  fronts.push(front);
  const { port } = front.address() as AddressInfo;
  const publisher = new HttpEventPublisher({
    endpoint: `http://127.0.0.1:${port}${target.pathname}`,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
    baseDelayMs: 10,
  });
  return { publisher, refused };
}
const fronts: Server[] = [];
afterAll(() => Promise.all(fronts.map((f) => new Promise((resolve) => f.close(resolve)))));

describe("the publish endpoint fails", () => {
  it("recovering after two failed publishes: the relay retries and the whole answer arrives once", async () => {
    const user = randomUUID();
    const { publisher, refused } = await flakyPublisher((call) => call <= 2);
    const request = chat("Through a flaky endpoint [[fake:tokens=30]]");
    await handleInboundPublish(workerDeps(harness, { publisher }), inboundPublish(user, [request]));

    expect(refused).toEqual([1, 2]);
    const events = ofRequest(user, request.requestId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type).join(" ")).toMatch(/^start (delta )+done$/);
    expect(streamedText(events)).toBe(fakeAnswer(MODEL_NOVA_LITE, "Through a flaky endpoint", 30));
    const [model] = harness.bedrock.requests;
    expect(doneOf(events)).toMatchObject({ stopReason: "end_turn", usage: model!.usage });
    await expectSettled(harness, user, model!.usage!);
  });

  it("for good: the model is stopped early and what it consumed is settled", async () => {
    const user = randomUUID();
    // `start` goes out; every publish after it fails, retries included.
    const { publisher, refused } = await flakyPublisher((call) => call > 1);
    const request = chat("Nobody will hear this [[fake:tokens=2000,rate=400]]");
    await handleInboundPublish(workerDeps(harness, { publisher }), inboundPublish(user, [request]));
    await harness.bedrock.idle();

    expect(ofRequest(user, request.requestId).map((e) => e.type)).toEqual(["start"]);
    expect(refused.length).toBeGreaterThanOrEqual(4); // one publish and all its retries
    const [model] = harness.bedrock.requests;
    // Stopped long before its 2,000 tokens (5 s at this pace): nobody could receive them.
    expect(model!.outcome).toBe("client_aborted");
    expect(model!.usage).toBeUndefined();
    expect(model!.deltasSent).toBeLessThan(2000);
    // The model reported nothing: the input estimate and the bound of what the worker read,
    // which is at most what the model sent.
    const sent = splitTokens(fakeAnswer(MODEL_NOVA_LITE, "Nobody will hear this", 2000)).slice(0, model!.deltasSent).join("");
    const view = await usageOf(harness, user);
    expect(view.daily.inputTokens).toBe(inputEstimateOf(model!));
    expect(view.daily.outputTokens).toBeGreaterThan(0);
    expect(view.daily.outputTokens).toBeLessThanOrEqual(tokenBound(sent));
    await expectSettled(harness, user, view.daily);
  });
});

describe("a duplicate delivery", () => {
  it("gets no second answer and no second charge, whether it arrives during the answer or after it", async () => {
    const user = randomUUID();
    const request = chat("Deliver me twice [[fake:tokens=30,rate=60]]");
    const event = inboundPublish(user, [request]);
    const first = invoke(event);
    await harness.bedrock.waitForRequests(1);
    // Lambda's at-least-once delivery: the same event again while the answer streams.
    await invoke(event);
    await first;
    // And once more after it ended, plus a client's resend of the same request id.
    await invoke(event);
    await invoke(inboundPublish(user, [request]));

    const events = ofRequest(user, request.requestId);
    expect(events.filter((e) => e.type === "start")).toHaveLength(1);
    expect(streamedText(events)).toBe(fakeAnswer(MODEL_NOVA_LITE, "Deliver me twice", 30));
    // Each later duplicate is told how the request ended: the same done, same seq.
    const dones = events.filter((e) => e.type === "done");
    expect(dones).toHaveLength(3);
    for (const done of dones) expect(done).toEqual(dones[0]);
    expect(harness.bedrock.requests).toHaveLength(1);
    const view = await expectSettled(harness, user, harness.bedrock.requests[0]!.usage!);
    expect(view.ledger.turns).toBe(1);
  });
});

describe("a worker that crashes after its reservation", () => {
  it("holds the reservation until its expiry, after which it stops counting and the budget is whole again", async () => {
    const input = devLikeConfig();
    const config = parseGatewayConfig(
      {
        ...input,
        relay: { flushIntervalMs: 20 },
        tiers: {
          ...input.tiers,
          default: { ...input.tiers.default!, maxOutputTokensPerRequest: 500, limits: { daily: { inputTokens: 10_000, outputTokens: 500 }, monthly: { inputTokens: 100_000, outputTokens: 200_000 } } },
        },
      } as GatewayConfigInput,
      { region: REGION },
    );
    // The meter's clock, as the metering tests inject it; never behind the real one (DynamoDB
    // Local deletes rows whose TTL passed).
    let shiftMs = 0;
    const now = () => Date.now() + shiftMs;
    const lifetimeMs = reservationLifetimeMs(config.worker.timeoutSeconds);
    const usage = createUsageMeter({ dynamodb: harness.dynamodb, tableName: harness.usageTable, reservationTtlMs: lifetimeMs, now });
    const deps = workerDeps(harness, { config, usage });
    const user = randomUUID();

    // The crashed turn: admitted with the whole output budget, never settled.
    await usage.admit({ userId: user, requestId: randomUUID(), tier: resolveTier(config, []), inputTokens: 40, maxTokens: 500 });
    expect((await usageOf(harness, user, now())).reserved).toEqual({ inputTokens: 40, outputTokens: 500 });

    // Until it expires, it counts: nothing is left to answer with.
    shiftMs = lifetimeMs - 5_000;
    const blocked = chat("Anything left? [[fake:tokens=20]]");
    await handleInboundPublish(deps, inboundPublish(user, [blocked]));
    expect(ofRequest(user, blocked.requestId)).toEqual([
      expect.objectContaining({ type: "error", code: "limit_exceeded", details: expect.objectContaining({ tokenType: "outputTokens", reserved: 500 }) }),
    ]);
    expect(harness.bedrock.requests).toHaveLength(0);

    // Past its expiry it no longer counts, though its row is still there (TTL is lazy).
    shiftMs = lifetimeMs + 1_000;
    expect((await usageOf(harness, user, now())).reserved).toEqual({ inputTokens: 0, outputTokens: 0 });
    const after = chat("And now? [[fake:tokens=20]]");
    await handleInboundPublish(deps, inboundPublish(user, [after]));
    expect(doneOf(ofRequest(user, after.requestId)).usage).toEqual(harness.bedrock.requests[0]!.usage);
    // The whole budget was offered to the model again.
    expect(harness.bedrock.requests[0]!.body!.inferenceConfig!.maxTokens).toBe(500);
    // Only the answered turn is charged; the admission's write dropped the dead reservation.
    await expectSettled(harness, user, harness.bedrock.requests[0]!.usage!, now());
  });
});
