import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stdoutWhile } from "../support/stdout.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { fakeAnswer } from "../../local/bedrock/index.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET } from "../support/config-fixtures.js";
import { chatRequest, inboundPublish, lambdaContext, startWorkerHarness, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
let handler: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  harness = await startWorkerHarness({
    ...devLikeConfig(),
    systemPrompt: "You are the test assistant.",
    relay: { flushIntervalMs: 20 },
    fallbackModels: [MODEL_NOVA_PRO],
  }, { logLevel: "DEBUG" });
  ({ handler } = (await import("../../functions/chatWorker.js")) as never);
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const newUser = () => randomUUID();
const chat = chatRequest;
const invoke = (event: unknown) => handler(event, lambdaContext());

const MAX_APPSYNC_EVENT_BYTES = 240 * 1024;
const forRequest = (events: OutboundEvent[], requestId: string) => events.filter((e) => e.requestId === requestId);

/** A client written from README: per request, orders events by seq and drops repeats. */
function readmeClient() {
  const seen = new Map<string, Map<number, OutboundEvent>>();
  return {
    receive(events: OutboundEvent[]) {
      for (const e of events) {
        const own = seen.get(e.requestId) ?? new Map<number, OutboundEvent>();
        seen.set(e.requestId, own);
        if (!own.has(e.seq)) own.set(e.seq, e);
      }
    },
    view(requestId: string): OutboundEvent[] {
      return [...(seen.get(requestId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    },
  };
}

describe("chat worker", () => {
  it("streams an answer as start, deltas and done, numbered from 0", async () => {
    const user = newUser();
    const request = chat("What is the capital of France?", { maxTokens: 50_000, temperature: 0.3 });
    await invoke(inboundPublish(user, [request]));

    const events = harness.outbound(user);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events[0]).toEqual({ type: "start", requestId: request.requestId, seq: 0, conversationId: request.conversationId, modelId: MODEL_NOVA_LITE, cached: false });
    const deltas = events.filter((e) => e.type === "delta");
    expect(deltas.length).toBeGreaterThan(0);
    const text = deltas.map((e) => (e.type === "delta" ? e.text : "")).join("");
    expect(text).toBe(fakeAnswer(MODEL_NOVA_LITE, "What is the capital of France?", 24));
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: "done", requestId: request.requestId, conversationId: request.conversationId, stopReason: "end_turn", cached: false });
    if (done.type !== "done") throw new Error("expected done");
    expect(done.usage.outputTokens).toBe(24);
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    expect(done.latencyMs.total).toBeGreaterThanOrEqual(done.latencyMs.firstToken ?? 0);

    // What reached the model: the stack's system prompt, and maxTokens clamped to the tier.
    const sent = harness.bedrock.requests.at(-1)!;
    expect(sent.modelId).toBe(MODEL_NOVA_LITE);
    expect(sent.body?.system).toEqual([{ text: "You are the test assistant." }]);
    expect(sent.body?.inferenceConfig?.maxTokens).toBe(2000);
    expect(sent.body?.inferenceConfig?.temperature).toBe(0.3);
  });

  it("answers with the caller's allowed models and the default", async () => {
    const user = newUser();
    const requestId = randomUUID();
    await invoke(inboundPublish(user, [{ action: "models", requestId }]));
    const [event] = harness.outbound(user);
    expect(event).toMatchObject({ type: "models", requestId, seq: 0, defaultModelId: MODEL_NOVA_LITE });
    if (event?.type !== "models") throw new Error("expected models");
    expect(event.models.map((m) => m.id)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_PRO]);
  });

  it("lets a user in a higher tier group use the tier's models", async () => {
    const user = newUser();
    const request = chat("Hello", { modelId: MODEL_SONNET });
    await invoke(inboundPublish(user, [request], { groups: ["pro"] }));
    expect(harness.outbound(user).map((e) => e.type).at(-1)).toBe("done");
    expect(harness.bedrock.requests.at(-1)!.modelId).toBe(MODEL_SONNET);
  });

  it("refuses a model outside the caller's tier with one error and no model call", async () => {
    const user = newUser();
    const request = chat("Hello", { modelId: MODEL_SONNET });
    await invoke(inboundPublish(user, [request]));
    const events = harness.outbound(user);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "error", code: "model_not_allowed", requestId: request.requestId, seq: 0, conversationId: request.conversationId });
    expect(harness.bedrock.requests).toHaveLength(0);
  });

  it.each([
    ["a payload that is not an object", "just text", undefined],
    ["a chat without a message", { action: "chat", requestId: randomUUID(), conversationId: randomUUID() }, "message"],
    ["a request id that is not a UUID", { action: "chat", requestId: "abc", conversationId: randomUUID(), message: "hi" }, "requestId"],
    ["an unknown field", { ...chat("hi"), sneaky: true }, "sneaky"],
    ["an unknown action", { action: "explode", requestId: randomUUID() }, "action"],
    ["a message longer than maxInputChars", chat("x".repeat(8001)), "message"],
    ["a temperature out of range", chat("hi", { temperature: 3 }), "temperature"],
    ["a temperature just above 1", chat("hi", { temperature: 1.5 }), "temperature"],
    ["a request id that is a UUID with a suffix", chat("hi", { requestId: `${randomUUID()}x` }), "requestId"],
    ["a conversation id that is a UUID with a suffix", chat("hi", { conversationId: `${randomUUID()}-1` }), "conversationId"],
    ["a cancel whose target is a UUID with a suffix", { action: "cancel", requestId: randomUUID(), targetRequestId: `${randomUUID()}0` }, "targetRequestId"],
  ])("answers %s with one invalid_request error naming the field", async (_what, payload, field) => {
    const user = newUser();
    await invoke(inboundPublish(user, [payload]));
    const events = harness.outbound(user);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "error", code: "invalid_request", seq: 0 });
    if (field) expect(JSON.stringify(events[0])).toContain(field);
    expect(JSON.stringify(events[0])).not.toMatch(/at .*\.ts:\d+|ZodError/);
    expect(harness.bedrock.requests).toHaveLength(0);
  });

  it("answers a publish to another user's inbound channel with unauthorized on the publisher's own channel", async () => {
    const user = newUser();
    const victim = newUser();
    const request = chat("Hello");
    await invoke(inboundPublish(user, [request], { channelSub: victim }));
    expect(harness.outbound(victim)).toEqual([]);
    expect(harness.outbound(user)).toEqual([
      expect.objectContaining({ type: "error", code: "unauthorized", requestId: request.requestId, seq: 0 }),
    ]);
    expect(harness.bedrock.requests).toHaveLength(0);
  });

  it("answers every event of a batch, each under its own request id", async () => {
    const user = newUser();
    const requests = [chat("one"), chat("two"), { action: "models", requestId: randomUUID() }, chat("three", { modelId: MODEL_SONNET })];
    await invoke(inboundPublish(user, requests));
    const events = harness.outbound(user);
    for (const request of requests.slice(0, 2)) {
      const own = forRequest(events, request.requestId);
      expect(own.map((e) => e.seq)).toEqual(own.map((_, i) => i));
      expect(own[0]!.type).toBe("start");
      expect(own.at(-1)!.type).toBe("done");
    }
    expect(forRequest(events, requests[2]!.requestId).map((e) => e.type)).toEqual(["models"]);
    expect(forRequest(events, requests[3]!.requestId).map((e) => e.type)).toEqual(["error"]);
    expect(harness.bedrock.requests).toHaveLength(2);
  });

  it("answers a duplicate delivery once, also when both copies arrive together", async () => {
    const user = newUser();
    const request = chat("Tell me once");
    const event = inboundPublish(user, [request]);
    await Promise.all([invoke(event), invoke(event)]);
    const answered = harness.outbound(user);
    await invoke(event);
    const events = harness.outbound(user);
    expect(harness.bedrock.requests).toHaveLength(1);
    expect(answered.filter((e) => e.type === "start")).toHaveLength(1);
    expect(answered.filter((e) => e.type === "done")).toHaveLength(1);
    // The late duplicate gets the final event again, under its original seq: a client that
    // de-duplicates by (requestId, seq) sees one answer; one that missed the end learns it.
    expect(events.slice(answered.length)).toEqual([answered.at(-1)]);
  });

  it("tells a client that resends a request which failed mid-answer how it ended, instead of staying silent", async () => {
    const user = newUser();
    const request = chat("Break [[fake:tokens=30,fault=midstream,after=5,error=throttling]]");
    await invoke(inboundPublish(user, [request]));
    const first = harness.outbound(user);
    expect(first.at(-1)).toMatchObject({ type: "error", code: "model_throttled" });
    await invoke(inboundPublish(user, [request]));
    expect(harness.outbound(user).slice(first.length)).toEqual([first.at(-1)]);
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("reports throttling before the stream as model_throttled, and lets the same request id retry", async () => {
    const user = newUser();
    const request = chat("Busy?");
    harness.bedrock.configure({ fault: "throttle" });
    await invoke(inboundPublish(user, [request]));
    const first = harness.outbound(user);
    expect(first).toEqual([expect.objectContaining({ type: "error", code: "model_throttled", seq: 0, retryAfterSeconds: expect.any(Number) })]);
    expect(JSON.stringify(first[0])).not.toContain("ThrottlingException");
    // The default model and its fallback were both tried.
    expect(harness.bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_PRO]);

    harness.bedrock.configure({ fault: null });
    await invoke(inboundPublish(user, [request]));
    // The retry numbers on from the failed attempt, so a client that drops repeats keeps it.
    const retried = harness.outbound(user).slice(1);
    expect(retried.map((e) => e.seq)).toEqual(retried.map((_, i) => i + 1));
    expect(retried.map((e) => e.type).at(-1)).toBe("done");
  });

  it("delivers a retry under the same request id whole to a client that orders by seq and drops repeats", async () => {
    const user = newUser();
    const request = chat("Third time lucky?");
    const client = readmeClient();
    harness.bedrock.configure({ fault: "throttle", faultTimes: 4 });
    await invoke(inboundPublish(user, [request]));
    await invoke(inboundPublish(user, [request]));
    await invoke(inboundPublish(user, [request]));
    client.receive(harness.outbound(user));
    const seen = client.view(request.requestId);
    expect(seen.slice(0, 2)).toEqual([
      expect.objectContaining({ type: "error", code: "model_throttled", seq: 0 }),
      expect.objectContaining({ type: "error", code: "model_throttled", seq: 1 }),
    ]);
    const answer = seen.slice(2);
    expect(answer[0]).toMatchObject({ type: "start", seq: 2 });
    expect(answer.at(-1)).toMatchObject({ type: "done" });
    const text = answer.map((e) => (e.type === "delta" ? e.text : "")).join("");
    expect(text).toBe(fakeAnswer(MODEL_NOVA_LITE, "Third time lucky?", 24));
  });

  it("answers two users who send the same request id each with their own answer", async () => {
    const alice = newUser();
    const bob = newUser();
    const requestId = randomUUID();
    const fromAlice = chat("Alice asks about apples", { requestId });
    const fromBob = chat("Bob asks about bananas", { requestId });
    await Promise.all([invoke(inboundPublish(alice, [fromAlice])), invoke(inboundPublish(bob, [fromBob]))]);
    for (const [user, request] of [[alice, fromAlice], [bob, fromBob]] as const) {
      const events = harness.outbound(user);
      expect(events[0]).toMatchObject({ type: "start", requestId, conversationId: request.conversationId });
      expect(events.at(-1)).toMatchObject({ type: "done", requestId, conversationId: request.conversationId });
      const text = events.map((e) => (e.type === "delta" ? e.text : "")).join("");
      expect(text).toBe(fakeAnswer(MODEL_NOVA_LITE, request.message, 24));
    }
    expect(harness.bedrock.requests).toHaveLength(2);
  });

  it("falls back to the next allowed model when the default is throttled, and says which model answered", async () => {
    const user = newUser();
    harness.bedrock.configure({ fault: "throttle", faultTimes: 1 });
    await invoke(inboundPublish(user, [chat("Anyone free?")]));
    const events = harness.outbound(user);
    expect(events[0]).toMatchObject({ type: "start", modelId: MODEL_NOVA_PRO });
    expect(events.at(-1)).toMatchObject({ type: "done" });
  });

  it("does not fall back from a model the request named", async () => {
    const user = newUser();
    harness.bedrock.configure({ fault: "throttle", faultTimes: 1 });
    await invoke(inboundPublish(user, [chat("Only you", { modelId: MODEL_NOVA_LITE })]));
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "model_throttled" })]);
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("ends an answer that fails mid-stream with exactly one model_error after the deltas", async () => {
    const user = newUser();
    const request = chat("Break halfway [[fake:tokens=40,fault=midstream,after=10]]");
    await invoke(inboundPublish(user, [request]));
    const events = harness.outbound(user);
    expect(events[0]!.type).toBe("start");
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === "error")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_error", conversationId: request.conversationId });
    expect(events.some((e) => e.type === "done")).toBe(false);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  });

  it("reports a model that is unavailable as model_unavailable", async () => {
    const user = newUser();
    await invoke(inboundPublish(user, [chat("hello [[fake:fault=unavailable]]")]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "model_unavailable" });
  });

  it("passes a temperature of exactly 1, the bound itself, to the model", async () => {
    const user = newUser();
    await invoke(inboundPublish(user, [chat("Warm?", { temperature: 1 })]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "done" });
    expect(harness.bedrock.requests.at(-1)!.body?.inferenceConfig?.temperature).toBe(1);
  });

  it.each([
    ["a channel with an extra segment", (sub: string) => ["Inbound-Messages", sub, "more"]],
    ["a case variant of the caller's own channel", (sub: string) => ["Inbound-Messages", sub.toUpperCase()]],
    ["a case variant of the namespace", (sub: string) => ["inbound-messages", sub]],
  ])("refuses a publish on %s with unauthorized and no model call", async (_what, segments) => {
    const user = newUser();
    const request = chat("Hello");
    await invoke(inboundPublish(user, [request], { segments: segments(user) }));
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "unauthorized", requestId: request.requestId })]);
    expect(harness.bedrock.requests).toHaveLength(0);
  });

  it.each([["*"], ["user-1"], ["a/b"]])("refuses a caller whose sub %s is not a Cognito sub, publishing nothing anywhere", async (sub) => {
    const before = harness.events.published.length;
    await invoke(inboundPublish(sub, [chat("Hello everyone")]));
    expect(harness.events.published.slice(before)).toEqual([]);
    expect(harness.bedrock.requests).toHaveLength(0);
  });

  it.each([
    ["a field name of 150 KB", { ...chat("hi"), ["k".repeat(150_000)]: 1 }],
    ["two thousand unknown fields", { ...chat("hi"), ...Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`field_${i}_${"x".repeat(100)}`, i])) }],
  ])("answers an event with %s with one error event that fits in AppSync", async (_what, payload) => {
    const user = newUser();
    const event = JSON.stringify(payload);
    expect(Buffer.byteLength(event)).toBeLessThan(MAX_APPSYNC_EVENT_BYTES);
    await invoke(inboundPublish(user, [event]));
    const events = harness.outbound(user);
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "invalid_request", requestId: (payload as { requestId: string }).requestId, seq: 0 })]);
    expect(Buffer.byteLength(JSON.stringify(events[0]))).toBeLessThan(16 * 1024);
  });

  it("logs without the prompt, the answer or the token, and emits token and latency metrics as EMF", async () => {
    const user = newUser();
    const secretPrompt = "my secret prompt about zanzibar";
    const lines = await stdoutWhile(() => invoke(inboundPublish(user, [chat(secretPrompt)])));
    const logged = lines.join("");
    // At DEBUG, every line the worker can write was written; the turn's summary is among them.
    const answeredLine = lines.flatMap((l) => l.split("\n")).find((l) => l.includes('"chat answered"'));
    expect(JSON.parse(answeredLine!)).toMatchObject({ user_id: user, tier: "default", model_id: MODEL_NOVA_LITE, correlation_id: expect.any(String), conversation_id: expect.any(String) });
    const answer = fakeAnswer(MODEL_NOVA_LITE, secretPrompt, 24);
    expect(logged).not.toContain("zanzibar");
    expect(logged).not.toContain(answer.split(" ").slice(0, 4).join(" "));
    expect(logged).not.toContain("secret-token");

    const emf = lines.flatMap((l) => l.split("\n")).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    const metricNames = emf.filter((m) => m.ModelId === MODEL_NOVA_LITE).flatMap((m) => m._aws.CloudWatchMetrics[0].Metrics.map((x: { Name: string }) => x.Name));
    expect(metricNames).toEqual(expect.arrayContaining(["InputTokens", "OutputTokens", "FirstTokenLatency", "ResponseLatency"]));
    // One EMF line carries the turn's figures together.
    const turnLine = emf.find((m) => m.ModelId === MODEL_NOVA_LITE && m.OutputTokens !== undefined);
    expect(turnLine).toMatchObject({ OutputTokens: 24, InputTokens: expect.any(Number), ResponseLatency: expect.any(Number) });
    expect(emf.every((m) => m._aws.CloudWatchMetrics[0].Namespace === "AiGateway")).toBe(true);
  });
});
