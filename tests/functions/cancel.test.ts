/**
 * Cancel through the store: a `cancel` handled by one worker instance stops the answer another
 * instance is streaming, the turn ends with `done` / `cancelled` and reports what was consumed,
 * and cancelling something that is not running is a harmless acknowledgement.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { devLikeConfig } from "../support/config-fixtures.js";
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
});
