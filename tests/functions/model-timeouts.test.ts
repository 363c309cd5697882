import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { converseStream } from "../../functions/lib/bedrock/converse.js";
import { createBedrockClient } from "../../functions/lib/bedrock/client.js";
import { DEADLINE_MARGIN_MS } from "../../functions/lib/worker/chat.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO } from "../support/config-fixtures.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness({ ...devLikeConfig(), fallbackModels: [MODEL_NOVA_PRO] });
});
afterAll(() => harness?.close());

describe("a model that stops answering", () => {
  it("is cut off after the idle timeout and reported as model_unavailable", async () => {
    const deps = workerDeps(harness, { modelIdleTimeoutMs: 300 });
    const user = randomUUID();
    const request = { requestId: randomUUID(), conversationId: randomUUID(), message: "are you there? [[fake:fault=hang]]" };
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    const events = harness.outbound(user);
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "model_unavailable", requestId: request.requestId, seq: 0 })]);
    expect(harness.bedrock.requests.at(-1)!.outcome).not.toBe("completed");
  });
});

describe("an answer that would outlast the invocation", () => {
  it("is stopped before Lambda's deadline with one error event after the deltas it sent", async () => {
    const user = randomUUID();
    const request = { requestId: randomUUID(), conversationId: randomUUID(), message: "a long story [[fake:tokens=200,rate=20]]" };
    // 3 s left once the safety margin is kept back (room for a loaded machine); the answer needs 10 s.
    const deadline = Date.now() + DEADLINE_MARGIN_MS + 3000;
    await handleInboundPublish(workerDeps(harness), inboundPublish(user, [request]), { remainingTimeMs: () => deadline - Date.now() });
    const events = harness.outbound(user);
    expect(events[0]).toMatchObject({ type: "start" });
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_unavailable", details: { reason: "deadline" } });
    expect(events.filter((e) => e.type === "error" || e.type === "done")).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    await harness.bedrock.idle();
    expect(harness.bedrock.requests.at(-1)!.outcome).toBe("client_aborted");
  });
});

describe("the turn's deadline", () => {
  it("ends the turn while the default model is still silent, without opening a fallback", async () => {
    harness.bedrock.reset();
    const user = randomUUID();
    // Both models would answer after 6 s; the deadline comes after 3 s.
    const request = { requestId: randomUUID(), conversationId: randomUUID(), message: "slow to start [[fake:delay=6000]]" };
    const deadline = Date.now() + DEADLINE_MARGIN_MS + 3000;
    await handleInboundPublish(workerDeps(harness), inboundPublish(user, [request]), { remainingTimeMs: () => deadline - Date.now() });
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "model_unavailable", details: { reason: "deadline" }, seq: 0 })]);
    await harness.bedrock.idle();
    expect(harness.bedrock.requests.map((r) => [r.modelId, r.outcome])).toEqual([[MODEL_NOVA_LITE, "client_aborted"]]);
  });

  it("stops at once, calling no model, when its signal has already fired", async () => {
    harness.bedrock.reset();
    const reason = new Error("deadline passed");
    const parts = converseStream(createBedrockClient({ endpoint: harness.bedrock.url }), { modelId: MODEL_NOVA_LITE, system: "", messages: [{ role: "user", text: "hi" }], maxTokens: 10 }, { signal: AbortSignal.abort(reason) });
    await expect(parts.next()).rejects.toBe(reason);
    expect(harness.bedrock.requests).toHaveLength(0);
  });
});
