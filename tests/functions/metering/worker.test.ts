/**
 * Metering inside the chat worker: the real handler and lib over DynamoDB Local, the
 * Bedrock-compatible server (a model that uses its whole maxTokens) and the Events server.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../../functions/lib/config/parse.js";
import type { GatewayConfig, GatewayConfigInput } from "../../../functions/lib/config/schema.js";
import { createUsageMeter } from "../../../functions/lib/metering/meter.js";
import { UsageStore } from "../../../functions/lib/metering/store.js";
import { usageAt } from "../../../functions/lib/metering/usage.js";
import type { OutboundEvent } from "../../../functions/lib/protocol/outbound.js";
import { handleInboundPublish } from "../../../functions/lib/worker/inbound.js";
import { DEADLINE_MARGIN_MS } from "../../../functions/lib/worker/chat.js";
import { LOCAL_CREDENTIALS } from "../../../local/dynamodb.js";
import { freePort } from "../../../local/ports.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET } from "../../support/config-fixtures.js";
import { chatRequest, inboundPublish, lambdaContext, startWorkerHarness, workerDeps, type WorkerHarness } from "../../support/worker-harness.js";

let harness: WorkerHarness;
let handler: (event: unknown, context: unknown) => Promise<unknown>;
let store: UsageStore;

beforeAll(async () => {
  harness = await startWorkerHarness({ ...devLikeConfig(), relay: { flushIntervalMs: 20 } });
  ({ handler } = (await import("../../../functions/chatWorker.js")) as never);
  store = new UsageStore(harness.dynamodb, harness.usageTable);
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const chat = chatRequest;
const invoke = (event: unknown) => handler(event, lambdaContext());
const settledUsage = async (user: string) => usageAt((await store.readPartition(user)).record, Date.now());

/** A config whose default tier has the given limits and bounds. */
function tightConfig(tier: Record<string, unknown>): GatewayConfig {
  const input = devLikeConfig();
  const base = input.tiers.default!;
  return parseGatewayConfig({ ...input, relay: { flushIntervalMs: 20 }, tiers: { ...input.tiers, default: { ...base, ...tier } } } as GatewayConfigInput, { region: "us-east-1" });
}

/**
 * A default tier that falls back from Nova Lite to Nova Pro, then Sonnet: Lite and Sonnet with a
 * small context window and 1,000 output tokens, Pro with room for any history and 2,000 (the tier's bound).
 */
function fallbackConfig(tier: Record<string, unknown> = {}): GatewayConfig {
  const input = devLikeConfig();
  const small = { maxOutputTokens: 1000, contextTokens: 1500 };
  return parseGatewayConfig(
    {
      ...input,
      relay: { flushIntervalMs: 20 },
      models: input.models.map((m) => ({ ...m, ...(m.id === MODEL_NOVA_PRO ? { contextTokens: 100_000 } : small) })),
      fallbackModels: [MODEL_NOVA_PRO, MODEL_SONNET],
      tiers: { default: { ...input.tiers.default!, models: [MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET], ...tier } },
    } as GatewayConfigInput,
    { region: "us-east-1" },
  );
}

describe("metering in the chat worker", () => {
  it("ends every answer with the caller's quota, and answers `usage` with the same quota", async () => {
    const user = randomUUID();
    const request = chat("How much have I used? [[fake:tokens=7]]");
    await invoke(inboundPublish(user, [request]));
    const done = harness.outbound(user).at(-1)!;
    if (done.type !== "done") throw new Error(`expected done, got ${done.type}`);
    expect(done.quota).toEqual({
      tier: "default",
      daily: {
        inputTokens: { used: done.usage.inputTokens, limit: 10_000 },
        outputTokens: { used: 7, limit: 20_000 },
        resetsAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d0:00\.000Z$/),
      },
      monthly: {
        inputTokens: { used: done.usage.inputTokens, limit: 100_000 },
        outputTokens: { used: 7, limit: 200_000 },
        resetsAt: expect.stringMatching(/^\d{4}-\d\d-01T00:00:00\.000Z$/),
      },
    });

    const usageRequest = { action: "usage", requestId: randomUUID() };
    await invoke(inboundPublish(user, [usageRequest]));
    const answer = harness.outbound(user).at(-1)!;
    expect(answer).toEqual({ type: "quota", requestId: usageRequest.requestId, seq: 0, quota: done.quota });
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("holds 50 simultaneous requests of one user to the output limit and spends it to the last token", async () => {
    const limit = 1013;
    const config = tightConfig({
      limits: { daily: { inputTokens: 1_000_000, outputTokens: limit }, monthly: { inputTokens: 1_000_000, outputTokens: 100_000 } },
      maxOutputTokensPerRequest: 100,
      maxConcurrentRequests: 100,
    });
    const deps = workerDeps(harness, { config });
    const user = randomUUID();
    // The model answers 1,000 tokens unless maxTokens stops it first: every turn uses its whole grant.
    const burst = Array.from({ length: 50 }, (_, i) => chat(`Burst ${i} [[fake:tokens=1000,delay=100]]`));
    await Promise.all(burst.map((request) => handleInboundPublish(deps, inboundPublish(user, [request]))));

    const finals = burst.map((r) => harness.outbound(user).filter((e) => e.requestId === r.requestId).at(-1)!);
    const answered = finals.filter((e): e is Extract<OutboundEvent, { type: "done" }> => e.type === "done");
    const refused = finals.filter((e) => e.type === "error");
    expect(answered.length + refused.length).toBe(50);
    for (const e of refused) expect(e).toMatchObject({ code: "limit_exceeded", details: { window: "daily", tokenType: "outputTokens", limit } });
    // What the model was told it may produce is exactly what the limit had left.
    const allowed = harness.bedrock.requests.map((r) => r.body!.inferenceConfig!.maxTokens!).sort((a, b) => b - a);
    expect(allowed).toEqual([...Array(10).fill(100), 13]);
    expect(answered.map((e) => e.usage.outputTokens).reduce((a, b) => a + b, 0)).toBe(limit);

    // Sequential turns after the burst: the user is refused at once, with nothing left unspent.
    await handleInboundPublish(deps, inboundPublish(user, [chat("One more? [[fake:tokens=1000]]")]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "limit_exceeded", details: { used: limit, limit } });
    const usage = await settledUsage(user);
    expect(usage.daily.outputTokens).toBe(limit);
    expect(usage.daily.outputTokens).toBeGreaterThanOrEqual(0.95 * limit);
    expect(usage.reserved).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it("charges a stream that fails mid-way for what it streamed, and releases its reservation", async () => {
    const user = randomUUID();
    const request = chat("Break halfway [[fake:tokens=40,fault=midstream,after=10]]");
    await invoke(inboundPublish(user, [request]));
    const events = harness.outbound(user);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_error" });
    const streamed = events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");
    const usage = await settledUsage(user);
    // At least one token per delta the model sent, at most one per byte streamed.
    expect(usage.daily.outputTokens).toBeGreaterThanOrEqual(10);
    expect(usage.daily.outputTokens).toBe(Buffer.byteLength(streamed));
    expect(usage.daily.inputTokens).toBeGreaterThan(0);
    expect(usage.reserved).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it("settles the part of an answer streamed before the deadline stopped it", async () => {
    const user = randomUUID();
    const deps = workerDeps(harness);
    await handleInboundPublish(deps, inboundPublish(user, [chat("Slow one [[fake:tokens=400,rate=40]]")]), {
      remainingTimeMs: () => DEADLINE_MARGIN_MS + 600,
    });
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "model_unavailable", details: { reason: "deadline" } });
    const streamed = harness.outbound(user).flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");
    const usage = await settledUsage(user);
    expect(usage.daily.outputTokens).toBe(Buffer.byteLength(streamed));
    expect(usage.daily.outputTokens).toBeGreaterThan(0);
    expect(usage.reserved.outputTokens).toBe(0);
  });

  it("does not charge a duplicate delivery of a request again", async () => {
    const user = randomUUID();
    const request = chat("Once only [[fake:tokens=9]]");
    const event = inboundPublish(user, [request]);
    await invoke(event);
    await invoke(event);
    await Promise.all([invoke(inboundPublish(user, [request])), invoke(inboundPublish(user, [request]))]);
    expect(harness.bedrock.requests).toHaveLength(1);
    const usage = await settledUsage(user);
    expect(usage.daily.outputTokens).toBe(9);
    const { ledger } = await store.readPartition(user);
    expect(ledger.every((row) => row.turns === 1)).toBe(true);
  });

  it("refuses without calling the model when usage cannot be read (DynamoDB unreachable)", async () => {
    const user = randomUUID();
    const port = await freePort();
    const unreachable = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const deps = workerDeps(harness, { usage: createUsageMeter({ dynamodb: unreachable, tableName: harness.usageTable, reservationTtlMs: 60_000 }) });
      const request = chat("Hello?");
      await handleInboundPublish(deps, inboundPublish(user, [request]));
      expect(harness.outbound(user)).toEqual([
        expect.objectContaining({ type: "error", code: "internal_error", requestId: request.requestId, conversationId: request.conversationId }),
      ]);
      expect(harness.bedrock.requests).toHaveLength(0);
    } finally {
      unreachable.destroy();
    }
  });

  it("refuses a third concurrent answer of a default-tier user with concurrency_limit", async () => {
    const user = randomUUID();
    const slow = [chat("One [[fake:tokens=20,delay=1500]]"), chat("Two [[fake:tokens=20,delay=1500]]")];
    const running = slow.map((r) => invoke(inboundPublish(user, [r])));
    await harness.bedrock.waitForRequests(2);
    await new Promise((r) => setTimeout(r, 200));
    const third = chat("Three");
    await invoke(inboundPublish(user, [third]));
    expect(harness.outbound(user).filter((e) => e.requestId === third.requestId)).toEqual([
      expect.objectContaining({ type: "error", code: "concurrency_limit", details: { limit: 2, active: 2 } }),
    ]);
    await Promise.all(running);
    expect(harness.bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_LITE]);
  });

  it("refuses starts beyond requestsPerMinute with rate_limited", async () => {
    const user = randomUUID();
    const deps = workerDeps(harness, { config: tightConfig({ requestsPerMinute: 2 }) });
    for (let i = 0; i < 2; i++) await handleInboundPublish(deps, inboundPublish(user, [chat(`Quick ${i} [[fake:tokens=1]]`)]));
    await handleInboundPublish(deps, inboundPublish(user, [chat("Too quick")]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "rate_limited", retryAfterSeconds: expect.any(Number), details: { limit: 2 } });
    expect(harness.bedrock.requests).toHaveLength(2);
  });

  it("counts a refusal in LimitRefusals for the model the request would have used (ModelId), and nothing for answers", async () => {
    const user = randomUUID();
    const recorded: [string, string][] = [];
    const deps = workerDeps(harness, { config: tightConfig({ requestsPerMinute: 1 }) });
    const modelMetrics = { record: (modelId: string, figures: readonly (readonly [string, ...unknown[]])[]) => figures.forEach(([name]) => recorded.push([modelId, name])) };
    const counting = { ...deps, modelMetrics: modelMetrics as unknown as typeof deps.modelMetrics };
    await handleInboundPublish(counting, inboundPublish(user, [chat("First [[fake:tokens=1]]")]));
    expect(recorded.filter(([, name]) => name === "LimitRefusals")).toEqual([]);
    await handleInboundPublish(counting, inboundPublish(user, [chat("Second", { modelId: MODEL_NOVA_PRO })]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "rate_limited" });
    expect(recorded.filter(([, name]) => name === "LimitRefusals")).toEqual([[MODEL_NOVA_PRO, "LimitRefusals"]]);
  });

  it("gives each fallback model its own output bound, reserving for the largest of them", async () => {
    const deps = workerDeps(harness, { config: fallbackConfig() });
    harness.bedrock.configure({ fault: "throttle", faultTimes: 1 });
    const user = randomUUID();
    await handleInboundPublish(deps, inboundPublish(user, [chat("Whoever is free")]));
    expect(harness.outbound(user)[0]).toMatchObject({ type: "start", modelId: MODEL_NOVA_PRO });
    expect(harness.bedrock.requests.map((r) => [r.modelId, r.body?.inferenceConfig?.maxTokens])).toEqual([
      [MODEL_NOVA_LITE, 1000],
      [MODEL_NOVA_PRO, 2000],
    ]);
  });

  it("reserves for the longest messages any fallback would be sent: a turn only the fallback's history overruns is refused", async () => {
    const limits = { daily: { inputTokens: 1000, outputTokens: 20_000 }, monthly: { inputTokens: 100_000, outputTokens: 200_000 } };
    const deps = workerDeps(harness, { config: fallbackConfig({ limits }) });
    const user = randomUUID();
    const conversationId = randomUUID();
    // A turn too long for Lite's and Sonnet's context (they send the new message alone), not for Pro's.
    const earlier = { requestId: randomUUID(), at: new Date().toISOString(), userText: "q".repeat(1200), assistantText: "a".repeat(1200), modelId: MODEL_NOVA_PRO, stopReason: "end_turn" };
    await deps.conversations.appendTurn(user, conversationId, earlier, true);
    await handleInboundPublish(deps, inboundPublish(user, [chat("And now?", { conversationId })]));
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "limit_exceeded" })]);
    expect(harness.bedrock.requests).toHaveLength(0);
  });
});
