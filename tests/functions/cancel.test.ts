/**
 * Cancel through the store: a `cancel` handled by one worker instance stops the answer another
 * instance is streaming, the turn ends with `done` / `cancelled` and reports what was consumed,
 * and cancelling something that is not running is a harmless acknowledgement.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { printedWhile, withMessage } from "../support/stdout.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
/** Two worker instances (two containers): separate clients, nothing shared but the tables. */
let answering: WorkerDeps;
let cancelling: WorkerDeps;
beforeAll(async () => {
  harness = await startWorkerHarness({ ...devLikeConfig(), relay: { flushIntervalMs: 20 } });
  answering = workerDeps(harness);
  cancelling = workerDeps(harness);
});
afterAll(() => harness?.close());

const forRequest = (sub: string, requestId: string) => harness.outbound(sub).filter((e) => e.requestId === requestId);
const lastOf = <T extends OutboundEvent["type"]>(sub: string, type: T) =>
  harness.outbound(sub).filter((e): e is Extract<OutboundEvent, { type: T }> => e.type === type).at(-1)!;
/** Cancels `targetRequestId` of `user`'s from the other instance, before or while it runs. */
const cancel = (user: string, targetRequestId: string) =>
  handleInboundPublish(cancelling, inboundPublish(user, [{ action: "cancel", requestId: randomUUID(), targetRequestId }]));
const waitFor = async (check: () => boolean, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("cancel", () => {
  it("stops a running answer from another worker instance before its end, ending with done/cancelled and the consumed tokens", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    const requestId = randomUUID();
    // 200 tokens at 20 a second: ten seconds of answer unless stopped.
    const answer = handleInboundPublish(
      answering,
      inboundPublish(user, [{ requestId, conversationId, message: "Tell me a long story [[fake:tokens=200,rate=20]]" }]),
    );
    await waitFor(() => forRequest(user, requestId).filter((e) => e.type === "delta").length >= 2);

    const cancelId = randomUUID();
    await handleInboundPublish(cancelling, inboundPublish(user, [{ action: "cancel", requestId: cancelId, targetRequestId: requestId }]));
    expect(forRequest(user, cancelId)).toEqual([{ type: "cancel", requestId: cancelId, seq: 0, targetRequestId: requestId, status: "cancelling" }]);
    await answer;

    const events = forRequest(user, requestId);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: "done", stopReason: "cancelled", cached: false });
    if (done.type !== "done") throw new Error("expected done");
    const streamed = events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");
    // Consumed tokens, estimated conservatively (no usage report on a cut stream): never fewer than streamed.
    const streamedWords = streamed.trim().split(/\s+/).length;
    expect(done.usage.outputTokens).toBeGreaterThanOrEqual(streamedWords);
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    expect(streamedWords).toBeLessThan(200);
    // The model's stream was cut, not run to the end.
    await harness.bedrock.idle();
    expect(harness.bedrock.requests.at(-1)).toMatchObject({ outcome: "client_aborted" });

    // History keeps what was streamed, marked cancelled.
    await handleInboundPublish(answering, inboundPublish(user, [{ action: "history", requestId: randomUUID(), conversationId }]));
    const history = harness.outbound(user).filter((e): e is Extract<OutboundEvent, { type: "history" }> => e.type === "history").at(-1)!;
    expect(history.turns[1]).toMatchObject({ role: "assistant", text: streamed, cancelled: true });
  });

  it("answers a cancel of a finished request with not_running and changes nothing", async () => {
    const user = randomUUID();
    const requestId = randomUUID();
    const conversationId = randomUUID();
    await handleInboundPublish(answering, inboundPublish(user, [{ requestId, conversationId, message: "Quick one" }]));
    const before = forRequest(user, requestId);
    const cancelId = randomUUID();
    await handleInboundPublish(cancelling, inboundPublish(user, [{ action: "cancel", requestId: cancelId, targetRequestId: requestId }]));
    expect(forRequest(user, cancelId)).toEqual([expect.objectContaining({ type: "cancel", targetRequestId: requestId, status: "not_running" })]);
    expect(forRequest(user, requestId)).toEqual(before);
    expect(before.at(-1)).toMatchObject({ type: "done", stopReason: "end_turn" });
  });

  it("cannot cancel another user's answer", async () => {
    const owner = randomUUID();
    const other = randomUUID();
    const requestId = randomUUID();
    const answer = handleInboundPublish(
      answering,
      inboundPublish(owner, [{ requestId, conversationId: randomUUID(), message: "Mine [[fake:tokens=30,rate=30]]" }]),
    );
    await waitFor(() => forRequest(owner, requestId).some((e) => e.type === "delta"));
    const cancelId = randomUUID();
    await handleInboundPublish(cancelling, inboundPublish(other, [{ action: "cancel", requestId: cancelId, targetRequestId: requestId }]));
    expect(forRequest(other, cancelId)).toEqual([expect.objectContaining({ status: "not_running" })]);
    await answer;
    expect(forRequest(owner, requestId).at(-1)).toMatchObject({ type: "done", stopReason: "end_turn" });
  });

  it("cancels a request that had not started yet when it starts, without calling the model", async () => {
    const user = randomUUID();
    const requestId = randomUUID();
    await handleInboundPublish(cancelling, inboundPublish(user, [{ action: "cancel", requestId: randomUUID(), targetRequestId: requestId }]));
    const calls = harness.bedrock.requests.length;
    await handleInboundPublish(answering, inboundPublish(user, [{ requestId, conversationId: randomUUID(), message: "Too late" }]));
    expect(forRequest(user, requestId)).toEqual([
      expect.objectContaining({ type: "done", stopReason: "cancelled", usage: { inputTokens: 0, outputTokens: 0 }, seq: 0 }),
    ]);
    expect(harness.bedrock.requests.length).toBe(calls);
  });

  it("needs a targetRequestId", async () => {
    const user = randomUUID();
    await handleInboundPublish(cancelling, inboundPublish(user, [{ action: "cancel", requestId: randomUUID() }]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "invalid_request", details: { fields: [{ field: "targetRequestId" }] } });
  });

  it("ends an answer cancelled before it began with done (not cached, no first token, the quota after it), keeps it in history as the message and an empty cancelled answer, and logs it", async () => {
    const user = randomUUID();
    const requestId = randomUUID();
    const conversationId = randomUUID();
    await cancel(user, requestId);
    const logging = { ...answering, logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }) };
    const startedAt = performance.now();
    const { logs } = await printedWhile(() => handleInboundPublish(logging, inboundPublish(user, [{ requestId, conversationId, message: "Never mind" }])));
    const elapsedMs = performance.now() - startedAt;
    const [done] = forRequest(user, requestId);
    expect(done).toEqual({
      type: "done",
      requestId,
      seq: 0,
      conversationId,
      stopReason: "cancelled",
      cached: false,
      usage: { inputTokens: 0, outputTokens: 0 },
      quota: expect.objectContaining({ tier: "default" }),
      latencyMs: { firstToken: null, total: expect.any(Number) },
    });
    if (done?.type !== "done") throw new Error("expected done");
    expect(done.latencyMs.total).toBeLessThanOrEqual(Math.ceil(elapsedMs));
    expect(withMessage(logs, "chat cancelled before the answer began")).toEqual([expect.objectContaining({ level: "INFO", input_tokens: 0 })]);

    await handleInboundPublish(answering, inboundPublish(user, [{ action: "history", requestId: randomUUID(), conversationId }]));
    expect(lastOf(user, "history").turns).toEqual([
      { role: "user", text: "Never mind", at: expect.any(String) },
      { role: "assistant", text: "", at: expect.any(String), cancelled: true },
    ]);
    expect(await answering.conversations.recentTurns(user, conversationId, 10)).toEqual([expect.objectContaining({ stopReason: "cancelled", cancelled: true })]);
  });

  it("titles a conversation by an answer cancelled before it began only when that turn starts the conversation", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    await handleInboundPublish(answering, inboundPublish(user, [{ requestId: randomUUID(), conversationId, message: "Old question" }]));
    // A month on, the old turns have expired: the next turn starts the conversation over.
    const later = Date.now() + 31 * 86_400_000;
    const future = { ...answering, conversations: new ConversationStore({ dynamodb: harness.dynamodb, tableName: harness.conversationsTable, ttlDays: 30, now: () => later }) };
    for (const message of ["New start", "Follow-up"]) {
      const requestId = randomUUID();
      await cancel(user, requestId);
      await handleInboundPublish(future, inboundPublish(user, [{ requestId, conversationId, message }]));
      expect(forRequest(user, requestId)).toEqual([expect.objectContaining({ type: "done", stopReason: "cancelled" })]);
    }
    await handleInboundPublish(future, inboundPublish(user, [{ action: "conversations", requestId: randomUUID() }]));
    expect(lastOf(user, "conversations").conversations).toEqual([expect.objectContaining({ conversationId, title: "New start" })]);
  });

  it("charges the input of a model that was called but had not begun answering when the cancel came", async () => {
    const user = randomUUID();
    const requestId = randomUUID();
    const calls = harness.bedrock.requests.length;
    const answer = handleInboundPublish(answering, inboundPublish(user, [{ requestId, conversationId: randomUUID(), message: "Think first [[fake:delay=5000]]" }]));
    await harness.bedrock.waitForRequests(calls + 1);
    await cancel(user, requestId);
    await answer;
    const events = forRequest(user, requestId);
    expect(events).toEqual([expect.objectContaining({ type: "done", stopReason: "cancelled", seq: 0 })]);
    if (events[0]?.type !== "done") throw new Error("expected done");
    expect(events[0].usage.inputTokens).toBeGreaterThan(0);
    expect(events[0].usage.outputTokens).toBe(0);
    await harness.bedrock.idle();
    expect(harness.bedrock.requests.at(-1)).toMatchObject({ outcome: "client_aborted" });
  });

  it("answers a cancel aimed at a request that is not a chat with not_running: only answers run", async () => {
    const user = randomUUID();
    const modelsRequestId = randomUUID();
    await handleInboundPublish(answering, inboundPublish(user, [{ action: "models", requestId: modelsRequestId }]));
    const cancelId = randomUUID();
    await handleInboundPublish(cancelling, inboundPublish(user, [{ action: "cancel", requestId: cancelId, targetRequestId: modelsRequestId }]));
    expect(forRequest(user, cancelId)).toEqual([expect.objectContaining({ type: "cancel", targetRequestId: modelsRequestId, status: "not_running" })]);
  });
});
