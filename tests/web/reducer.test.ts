import { describe, expect, it } from "vitest";
import type { OutboundBody, OutboundEvent, Quota } from "../../functions/lib/protocol/outbound.js";
import { chatReducer } from "../../web/src/chat/reducer.js";
import { activeAnswer, type ChatAction, type ChatState, initialChatState } from "../../web/src/chat/state.js";

const CONVERSATION = "11111111-1111-4111-8111-111111111111";
const REQUEST = "22222222-2222-4222-8222-222222222222";
const OTHER = "33333333-3333-4333-8333-333333333333";
const AT = Date.UTC(2026, 0, 1, 12);

const quota: Quota = {
  tier: "default",
  daily: { inputTokens: { used: 10, limit: 100 }, outputTokens: { used: 20, limit: 100 }, resetsAt: "2026-01-02T00:00:00Z" },
  monthly: { inputTokens: { used: 10, limit: 1000 }, outputTokens: { used: 20, limit: 1000 }, resetsAt: "2026-02-01T00:00:00Z" },
};

function event(seq: number, body: OutboundBody, requestId = REQUEST): OutboundEvent {
  return { ...body, requestId, seq } as OutboundEvent;
}
const start = (seq = 0, requestId = REQUEST) => event(seq, { type: "start", conversationId: CONVERSATION, modelId: "model-a", cached: false }, requestId);
const delta = (seq: number, text: string, requestId = REQUEST) => event(seq, { type: "delta", conversationId: CONVERSATION, text }, requestId);
const done = (seq: number, extra: Partial<Extract<OutboundBody, { type: "done" }>> = {}, requestId = REQUEST) =>
  event(seq, { type: "done", conversationId: CONVERSATION, stopReason: "end_turn", cached: false, usage: { inputTokens: 5, outputTokens: 7 }, latencyMs: { firstToken: 1, total: 2 }, ...extra }, requestId);

function run(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}
const receive = (e: OutboundEvent): ChatAction => ({ type: "received", event: e, at: AT });
const chatSent = (requestId = REQUEST, message = "Hello"): ChatAction => ({
  type: "sent",
  request: { action: "chat", requestId, conversationId: CONVERSATION, message },
  at: AT,
});
const answerOf = (state: ChatState, requestId = REQUEST) => state.messages.find((m) => m.role === "assistant" && m.requestId === requestId)!;

const sentChat = () => run(initialChatState(CONVERSATION), chatSent());

describe("chat reducer: streaming", () => {
  it("shows the user's message and a waiting answer as soon as a chat is sent", () => {
    const state = sentChat();
    expect(state.messages.map((m) => [m.role, m.text, m.status])).toEqual([
      ["user", "Hello", "done"],
      ["assistant", "", "waiting"],
    ]);
    expect(activeAnswer(state)?.requestId).toBe(REQUEST);
  });

  it("appends deltas as they arrive and finishes on done", () => {
    const streaming = run(sentChat(), receive(start()), receive(delta(1, "Hel")), receive(delta(2, "lo")));
    expect(answerOf(streaming)).toMatchObject({ text: "Hello", status: "streaming", modelId: "model-a" });
    const finished = run(streaming, receive(done(3)));
    expect(answerOf(finished)).toMatchObject({ status: "done", usage: { inputTokens: 5, outputTokens: 7 }, stopReason: "end_turn" });
    expect(activeAnswer(finished)).toBeUndefined();
  });

  it("orders events by seq: an early delta waits until the gap is filled", () => {
    const early = run(sentChat(), receive(start()), receive(delta(2, " world")));
    expect(answerOf(early).text).toBe("");
    const filled = run(early, receive(delta(1, "Hello")));
    expect(answerOf(filled).text).toBe("Hello world");
  });

  it("applies a done that arrived before the deltas only after them", () => {
    const state = run(sentChat(), receive(done(3)), receive(delta(2, "b")), receive(start()), receive(delta(1, "a")));
    expect(answerOf(state)).toMatchObject({ text: "ab", status: "done" });
  });

  it("drops repeated events (resends and redeliveries carry the same seq)", () => {
    const state = run(sentChat(), receive(start()), receive(delta(1, "once")), receive(delta(1, "once")), receive(start()), receive(delta(2, "!")), receive(delta(2, "!")));
    expect(answerOf(state).text).toBe("once!");
  });

  it("ignores a repeated final event after the answer finished", () => {
    const state = run(sentChat(), receive(start()), receive(delta(1, "x")), receive(done(2)), receive(done(2)), receive(delta(3, "late")));
    expect(answerOf(state)).toMatchObject({ text: "x", status: "done" });
  });

  it("ignores events of requests this tab did not send", () => {
    const before = sentChat();
    const after = run(before, receive(start(0, OTHER)), receive(delta(1, "someone else's", OTHER)));
    expect(after).toBe(before);
  });

  it("counts resends on the waiting answer", () => {
    const state = run(sentChat(), { type: "resent", requestId: REQUEST }, { type: "resent", requestId: REQUEST });
    expect(answerOf(state).resends).toBe(2);
  });
});

describe("chat reducer: errors", () => {
  it("marks the answer failed with the error, keeping text already streamed", () => {
    const state = run(
      sentChat(),
      receive(start()),
      receive(delta(1, "partial")),
      receive(event(2, { type: "error", conversationId: CONVERSATION, code: "model_error", message: "The model failed." })),
    );
    expect(answerOf(state)).toMatchObject({ text: "partial", status: "failed", error: { code: "model_error", receivedAt: AT } });
  });

  it("shows a limit refusal with its retryAfterSeconds", () => {
    const state = run(
      sentChat(),
      receive(event(0, { type: "error", conversationId: CONVERSATION, code: "limit_exceeded", message: "Limit reached.", retryAfterSeconds: 3600 })),
    );
    expect(answerOf(state)).toMatchObject({ status: "failed", error: { code: "limit_exceeded", retryAfterSeconds: 3600 } });
  });

  it("accepts the dead-letter notice (always seq 0) after other events", () => {
    const state = run(
      sentChat(),
      receive(start()),
      receive(delta(1, "half")),
      receive(event(0, { type: "error", code: "internal_error", message: "Lost.", details: { deadLettered: true } })),
    );
    expect(answerOf(state)).toMatchObject({ status: "failed", text: "half", error: { details: { deadLettered: true } } });
  });

  it("after a reconnect, takes the final event even when deltas were lost, and marks the answer interrupted", () => {
    const state = run(sentChat(), receive(start()), receive(delta(1, "be")), { type: "connection", status: "reconnecting" }, { type: "connection", status: "connected" }, receive(done(5)));
    expect(answerOf(state)).toMatchObject({ status: "interrupted", text: "be" });
  });

  it("without a reconnect, a final event after a gap waits for the gap", () => {
    const state = run(sentChat(), receive(start()), receive(done(5)));
    expect(answerOf(state).status).toBe("streaming");
  });

  it("keeps notices for other actions apart from the chat", () => {
    const state = run(
      sentChat(),
      { type: "sent", request: { action: "history", requestId: OTHER, conversationId: CONVERSATION }, at: AT },
      receive(event(0, { type: "error", code: "internal_error", message: "Oops." }, OTHER)),
    );
    expect(state.notice).toMatchObject({ context: "Opening the conversation", error: { code: "internal_error" } });
    expect(state.loadingConversationId).toBeUndefined();
    expect(chatReducer(state, { type: "dismissNotice" }).notice).toBeUndefined();
  });
});

describe("chat reducer: cancel", () => {
  const CANCEL = "44444444-4444-4444-8444-444444444444";
  const cancelSent: ChatAction = { type: "sent", request: { action: "cancel", requestId: CANCEL, targetRequestId: REQUEST }, at: AT };

  it("marks the answer stopping, then cancelled when it ends with stopReason cancelled", () => {
    const stopping = run(sentChat(), receive(start()), receive(delta(1, "par")), cancelSent);
    expect(answerOf(stopping).status).toBe("stopping");
    expect(activeAnswer(stopping)?.requestId).toBe(REQUEST);
    const ended = run(stopping, receive(delta(2, "tial")), receive(done(3, { stopReason: "cancelled" })));
    expect(answerOf(ended)).toMatchObject({ status: "cancelled", text: "partial", stopReason: "cancelled" });
    expect(activeAnswer(ended)).toBeUndefined();
  });

  it("treats a cancelled error as a stopped answer", () => {
    const state = run(sentChat(), cancelSent, receive(event(0, { type: "error", conversationId: CONVERSATION, code: "cancelled", message: "Cancelled." })));
    expect(answerOf(state).status).toBe("cancelled");
  });

  it("keeps a started answer stopping on not_running, until its own done says how it ended", () => {
    const stopping = run(sentChat(), receive(start()), receive(delta(1, "almost")), cancelSent);
    const acknowledged = run(stopping, receive(event(0, { type: "cancel", targetRequestId: REQUEST, status: "not_running" }, CANCEL)));
    expect(answerOf(acknowledged).status).toBe("stopping");
    const ended = run(acknowledged, receive(done(2)));
    expect(answerOf(ended)).toMatchObject({ status: "done", text: "almost", stopReason: "end_turn" });
  });

  it("shows an answer that never started as stopped on not_running, and as stopped again if the gateway cancels it when it starts", () => {
    const acknowledged = run(sentChat(), cancelSent, receive(event(0, { type: "cancel", targetRequestId: REQUEST, status: "not_running" }, CANCEL)));
    expect(answerOf(acknowledged)).toMatchObject({ status: "cancelled", text: "" });
    expect(answerOf(acknowledged).stoppedLocally).toBeUndefined();
    expect(activeAnswer(acknowledged)).toBeUndefined();
    const lone = run(acknowledged, receive(done(0, { stopReason: "cancelled", usage: { inputTokens: 0, outputTokens: 0 } })));
    expect(answerOf(lone)).toMatchObject({ status: "cancelled", stopReason: "cancelled" });
  });

  it("leaves the answer stopping on cancelling; its done ends it", () => {
    const acknowledged = run(sentChat(), receive(start()), cancelSent, receive(event(0, { type: "cancel", targetRequestId: REQUEST, status: "cancelling" }, CANCEL)));
    expect(answerOf(acknowledged).status).toBe("stopping");
    expect(acknowledged.requests[CANCEL]!.finished).toBe(true);
  });

  it("when the gateway has no cancel action, stops showing the answer and remembers cancel is unavailable", () => {
    const state = run(
      sentChat(),
      receive(start()),
      receive(delta(1, "shown")),
      cancelSent,
      receive(event(0, { type: "error", code: "invalid_request", message: "Not yet.", details: { action: "cancel" } }, CANCEL)),
      receive(delta(2, " hidden")),
      receive(done(3)),
    );
    expect(answerOf(state)).toMatchObject({ status: "cancelled", text: "shown", stoppedLocally: true });
    expect(state.cancel).toBe("unavailable");
    expect(state.notice).toBeUndefined();
  });
});

describe("chat reducer: quota, models, conversations", () => {
  it("takes the quota from done and from a usage answer", () => {
    const fromDone = run(sentChat(), receive(start()), receive(done(1, { quota })));
    expect(fromDone.quota).toEqual(quota);
    expect(fromDone.usage).toBe("available");
    const USAGE = "55555555-5555-4555-8555-555555555555";
    const later = { ...quota, daily: { ...quota.daily, outputTokens: { used: 90, limit: 100 } } };
    const fromUsage = run(fromDone, { type: "sent", request: { action: "usage", requestId: USAGE }, at: AT }, receive(event(0, { type: "quota", quota: later }, USAGE)));
    expect(fromUsage.quota?.daily.outputTokens.used).toBe(90);
  });

  it("marks usage unavailable when the gateway answers usage with invalid_request for the action", () => {
    const USAGE = "55555555-5555-4555-8555-555555555555";
    const state = run(
      initialChatState(CONVERSATION),
      { type: "sent", request: { action: "usage", requestId: USAGE }, at: AT },
      receive(event(0, { type: "error", code: "invalid_request", message: "Not yet.", details: { action: "usage" } }, USAGE)),
    );
    expect(state.usage).toBe("unavailable");
    expect(state.notice).toBeUndefined();
  });

  it("preselects the default model, and keeps a still-allowed earlier choice", () => {
    const MODELS = "66666666-6666-4666-8666-666666666666";
    const models: OutboundBody = {
      type: "models",
      models: [
        { id: "a", name: "A", provider: "x", maxOutputTokens: 10 },
        { id: "b", name: "B", provider: "x", maxOutputTokens: 10 },
      ],
      defaultModelId: "a",
    };
    const ask: ChatAction = { type: "sent", request: { action: "models", requestId: MODELS }, at: AT };
    expect(run(initialChatState(CONVERSATION), ask, receive(event(0, models, MODELS))).selectedModelId).toBe("a");
    expect(run(initialChatState(CONVERSATION, "b"), ask, receive(event(0, models, MODELS))).selectedModelId).toBe("b");
    expect(run(initialChatState(CONVERSATION, "gone"), ask, receive(event(0, models, MODELS))).selectedModelId).toBe("a");
  });

  it("lists conversations newest first, loads a history and restores a conversation whose delete failed", () => {
    const LIST = "77777777-7777-4777-8777-777777777777";
    const HISTORY = "88888888-8888-4888-8888-888888888888";
    const DELETE = "99999999-9999-4999-8999-999999999999";
    const OLD = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    const listed = run(
      initialChatState(CONVERSATION),
      { type: "sent", request: { action: "conversations", requestId: LIST }, at: AT },
      receive(
        event(0, {
          type: "conversations",
          conversations: [
            { conversationId: OLD, title: "Old", updatedAt: "2026-01-01T00:00:00Z" },
            { conversationId: CONVERSATION, title: "New", updatedAt: "2026-01-02T00:00:00Z" },
          ],
        }, LIST),
      ),
    );
    expect(listed.conversations.map((c) => c.title)).toEqual(["New", "Old"]);

    const opened = run(
      listed,
      { type: "sent", request: { action: "history", requestId: HISTORY, conversationId: OLD }, at: AT },
    );
    expect(opened).toMatchObject({ conversationId: OLD, loadingConversationId: OLD, messages: [] });
    const loaded = run(
      opened,
      receive(event(0, { type: "history", conversationId: OLD, turns: [{ role: "user", text: "Q", at: "t" }, { role: "assistant", text: "A", at: "t" }] }, HISTORY)),
    );
    expect(loaded.messages.map((m) => [m.role, m.text])).toEqual([["user", "Q"], ["assistant", "A"]]);
    expect(loaded.loadingConversationId).toBeUndefined();

    const deleting = run(loaded, { type: "sent", request: { action: "deleteConversation", requestId: DELETE, conversationId: OLD }, at: AT });
    expect(deleting.conversations.map((c) => c.title)).toEqual(["New"]);
    const restored = run(deleting, receive(event(0, { type: "error", code: "internal_error", message: "No." }, DELETE)));
    expect(restored.conversations.map((c) => c.title)).toEqual(["New", "Old"]);
    expect(restored.notice?.context).toBe("Deleting the conversation");
  });

  const page = (requestId: string, titles: [string, string][], nextCursor?: string): OutboundEvent =>
    event(0, { type: "conversations", conversations: titles.map(([id, title]) => ({ conversationId: id, title, updatedAt: `2026-01-${title}T00:00:00Z` })), ...(nextCursor ? { nextCursor } : {}) }, requestId);
  const listAsked = (requestId: string, cursor?: string): ChatAction => ({ type: "sent", request: { action: "conversations", requestId, ...(cursor ? { cursor } : {}) }, at: AT });

  it("pages the conversations list with nextCursor, and merges a later refresh of the first page", () => {
    const [P1, P2, P3] = ["c1111111-1111-4111-8111-111111111111", "c2222222-2222-4222-8222-222222222222", "c3333333-3333-4333-8333-333333333333"];
    const first = run(initialChatState(CONVERSATION), listAsked(P1), receive(page(P1, [["a", "20"], ["b", "19"]], "cursor-1")));
    expect(first.conversations.map((c) => c.title)).toEqual(["20", "19"]);
    expect(first.conversationsCursor).toBe("cursor-1");

    const asking = run(first, listAsked(P2, "cursor-1"));
    expect(asking.loadingOlderConversations).toBe(true);
    const second = run(asking, receive(page(P2, [["c", "18"]])));
    expect(second.conversations.map((c) => c.title)).toEqual(["20", "19", "18"]);
    expect(second).toMatchObject({ conversationsCursor: undefined, loadingOlderConversations: false });

    // After a turn the first page is asked again: a new conversation joins, the older ones stay.
    const refreshed = run(second, listAsked(P3), receive(page(P3, [["d", "21"], ["a", "20"]], "cursor-2")));
    expect(refreshed.conversations.map((c) => c.title)).toEqual(["21", "20", "19", "18"]);
    expect(refreshed.conversationsCursor).toBeUndefined();
  });

  it("replaces the list on a first-page refresh when no older page was loaded", () => {
    const [P1, P2] = ["c1111111-1111-4111-8111-111111111111", "c2222222-2222-4222-8222-222222222222"];
    const state = run(initialChatState(CONVERSATION), listAsked(P1), receive(page(P1, [["a", "20"], ["b", "19"]])), listAsked(P2), receive(page(P2, [["b", "19"]], "next")));
    expect(state.conversations.map((c) => c.title)).toEqual(["19"]);
    expect(state.conversationsCursor).toBe("next");
  });

  it("loads earlier turns of the open conversation above the shown ones, with the turns' cached, cancelled and truncated flags", () => {
    const [H1, H2] = ["d1111111-1111-4111-8111-111111111111", "d2222222-2222-4222-8222-222222222222"];
    const newest = run(
      initialChatState(CONVERSATION),
      { type: "sent", request: { action: "history", requestId: H1, conversationId: CONVERSATION }, at: AT },
      receive(
        event(0, {
          type: "history",
          conversationId: CONVERSATION,
          turns: [
            { role: "user", text: "Q3", at: "t3" },
            { role: "assistant", text: "A3", at: "t3", cancelled: true },
            { role: "user", text: "Q4", at: "t4" },
            { role: "assistant", text: "A4", at: "t4", truncated: true },
          ],
          nextCursor: "older",
        }, H1),
      ),
    );
    expect(newest.messages.map((m) => [m.text, m.status, m.truncated ?? false])).toEqual([
      ["Q3", "done", false],
      ["A3", "cancelled", false],
      ["Q4", "done", false],
      ["A4", "done", true],
    ]);
    expect(newest.historyCursor).toBe("older");

    const asking = run(newest, { type: "sent", request: { action: "history", requestId: H2, conversationId: CONVERSATION, cursor: "older" }, at: AT });
    expect(asking).toMatchObject({ loadingEarlierHistory: true, conversationId: CONVERSATION });
    expect(asking.messages).toHaveLength(4);
    const all = run(
      asking,
      receive(event(0, { type: "history", conversationId: CONVERSATION, turns: [{ role: "user", text: "Q1", at: "t1" }, { role: "assistant", text: "A1", at: "t1", cached: true }] }, H2)),
    );
    expect(all.messages.map((m) => m.text)).toEqual(["Q1", "A1", "Q3", "A3", "Q4", "A4"]);
    expect(all.messages[1]!.cached).toBe(true);
    expect(new Set(all.messages.map((m) => m.key)).size).toBe(6);
    expect(all).toMatchObject({ historyCursor: undefined, loadingEarlierHistory: false });
  });

  it("drops an earlier page that arrives after the user opened another conversation", () => {
    const H1 = "d1111111-1111-4111-8111-111111111111";
    const NEW = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
    const state = run(
      { ...initialChatState(CONVERSATION), historyCursor: "older" },
      { type: "sent", request: { action: "history", requestId: H1, conversationId: CONVERSATION, cursor: "older" }, at: AT },
      { type: "newChat", conversationId: NEW },
      receive(event(0, { type: "history", conversationId: CONVERSATION, turns: [{ role: "user", text: "Q1", at: "t1" }] }, H1)),
    );
    expect(state).toMatchObject({ conversationId: NEW, messages: [], historyCursor: undefined, loadingEarlierHistory: false });
  });

  it("starts a new chat with no messages", () => {
    const NEW = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
    const state = run(sentChat(), { type: "newChat", conversationId: NEW });
    expect(state).toMatchObject({ conversationId: NEW, messages: [] });
  });
});
