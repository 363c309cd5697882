/**
 * The chat reducer: pure, so every ordering, repeat and failure case is a unit test.
 *
 * Events are followed per request the UI sent: `seq` below the next expected one is a repeat
 * (a resend or an at-least-once redelivery) and is dropped; one above it waits until the gap
 * is filled. Events for requests this tab did not send (another tab of the same user shares
 * the outbound channel) are ignored. Two exceptions to strict order, both from the protocol:
 * the dead-letter notice always carries seq 0 and ends the request whatever came before, and a
 * request whose events may have been lost in a reconnect accepts its final event after a gap.
 */
import type { OutboundEvent } from "../../../functions/lib/protocol/outbound.js";
import type { ErrorInfo } from "./errors.js";
import type { ChatAction, ChatMessage, ChatState, ConversationSummary, TrackedRequest } from "./state.js";

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "connection":
      return action.status === "reconnecting" && state.connection !== "reconnecting" ? connectionLost(state) : { ...state, connection: action.status };
    case "sent":
      return sent(state, action.request, action.at);
    case "resent":
      return updateAnswer(state, action.requestId, (m) => ({ ...m, resends: (m.resends ?? 0) + 1 }));
    case "received":
      return received(state, action.event, action.at);
    case "newChat":
      return { ...state, conversationId: action.conversationId, messages: [], loadingConversationId: undefined, historyCursor: undefined, loadingEarlierHistory: false };
    case "selectModel":
      return { ...state, selectedModelId: action.modelId };
    case "dismissNotice":
      return { ...state, notice: undefined };
  }
}

function track(request: { action: TrackedRequest["action"]; conversationId?: string; targetRequestId?: string; cursor?: string }): TrackedRequest {
  return {
    action: request.action,
    conversationId: request.conversationId,
    targetRequestId: request.targetRequestId,
    cursor: request.cursor,
    nextSeq: 0,
    early: {},
    finished: false,
  };
}

function sent(state: ChatState, request: Parameters<typeof track>[0] & { requestId: string; message?: string; modelId?: string }, _at: number): ChatState {
  const requests = { ...state.requests, [request.requestId]: track(request) };
  switch (request.action) {
    case "chat": {
      if (request.conversationId !== state.conversationId) return { ...state, requests };
      const user: ChatMessage = { key: `${request.requestId}:user`, role: "user", text: request.message ?? "", status: "done", requestId: request.requestId };
      const answer: ChatMessage = { key: request.requestId, role: "assistant", text: "", status: "waiting", requestId: request.requestId, modelId: request.modelId };
      return { ...state, requests, messages: [...state.messages, user, answer] };
    }
    case "cancel":
      return updateAnswer({ ...state, requests }, request.targetRequestId!, (m) => (isOpen(m) ? { ...m, status: "stopping" } : m));
    case "history":
      // An earlier page of the open conversation keeps what is shown; opening one starts empty.
      return request.cursor
        ? { ...state, requests, loadingEarlierHistory: true }
        : { ...state, requests, conversationId: request.conversationId!, messages: [], loadingConversationId: request.conversationId, historyCursor: undefined, loadingEarlierHistory: false };
    case "conversations":
      return request.cursor ? { ...state, requests, loadingOlderConversations: true } : { ...state, requests };
    case "deleteConversation": {
      const removed = state.conversations.find((c) => c.conversationId === request.conversationId);
      requests[request.requestId] = { ...requests[request.requestId]!, removed };
      return { ...state, requests, conversations: state.conversations.filter((c) => c.conversationId !== request.conversationId) };
    }
    default:
      return { ...state, requests };
  }
}

/** Whether any event of the answer (its `start` first) was applied. */
function hasStarted(state: ChatState, requestId: string): boolean {
  return (state.requests[requestId]?.nextSeq ?? 0) > 0;
}

function isOpen(message: ChatMessage): boolean {
  return message.status === "waiting" || message.status === "streaming" || message.status === "stopping";
}

/** The socket dropped: answers that were streaming may miss deltas sent meanwhile. */
function connectionLost(state: ChatState): ChatState {
  const requests = { ...state.requests };
  for (const [id, tracked] of Object.entries(requests)) {
    if (!tracked.finished) requests[id] = { ...tracked, lostEvents: true };
  }
  return { ...state, connection: "reconnecting", requests };
}

function received(state: ChatState, event: OutboundEvent, at: number): ChatState {
  const tracked = state.requests[event.requestId];
  if (!tracked || tracked.finished) return state;
  const deadLetter = event.type === "error" && event.details?.deadLettered === true;
  const finalAfterGap = tracked.lostEvents && (event.type === "done" || event.type === "error") && event.seq > tracked.nextSeq;
  if (deadLetter || finalAfterGap) {
    const next = apply({ ...state, requests: { ...state.requests, [event.requestId]: { ...tracked, finished: true } } }, tracked, event, at);
    return finalAfterGap ? updateAnswer(next, event.requestId, (m) => ({ ...m, status: m.status === "done" ? "interrupted" : m.status })) : next;
  }
  if (event.seq < tracked.nextSeq || tracked.early[event.seq]) return state;
  if (event.seq > tracked.nextSeq) {
    return { ...state, requests: { ...state.requests, [event.requestId]: { ...tracked, early: { ...tracked.early, [event.seq]: event } } } };
  }
  // In order: apply it and every early event it unblocks.
  let current = state;
  let pending: TrackedRequest = tracked;
  let next: OutboundEvent | undefined = event;
  while (next && !pending.finished) {
    const { [next.seq]: _applied, ...early } = pending.early;
    pending = { ...pending, nextSeq: next.seq + 1, early, finished: next.type === "done" || next.type === "error" || isSingleAnswer(pending) };
    current = apply({ ...current, requests: { ...current.requests, [event.requestId]: pending } }, pending, next, at);
    next = pending.early[pending.nextSeq];
  }
  return current;
}

/** Every action but chat is answered with exactly one event. */
function isSingleAnswer(tracked: TrackedRequest): boolean {
  return tracked.action !== "chat";
}

function errorInfo(event: Extract<OutboundEvent, { type: "error" }>, at: number): ErrorInfo {
  return { code: event.code, message: event.message, retryAfterSeconds: event.retryAfterSeconds, details: event.details, receivedAt: at };
}

/** Applies one in-order event of a request the UI follows. */
function apply(state: ChatState, tracked: TrackedRequest, event: OutboundEvent, at: number): ChatState {
  switch (event.type) {
    case "start":
      return updateAnswer(state, event.requestId, (m) => ({ ...m, status: m.status === "stopping" ? "stopping" : "streaming", modelId: event.modelId, cached: event.cached }));
    case "delta":
      return updateAnswer(state, event.requestId, (m) =>
        m.stoppedLocally ? m : { ...m, text: m.text + event.text, status: m.status === "stopping" ? "stopping" : "streaming" },
      );
    case "done": {
      const withQuota = event.quota ? { ...state, quota: event.quota, usage: "available" as const } : state;
      return updateAnswer(withQuota, event.requestId, (m) => ({
        ...m,
        status: m.stoppedLocally || event.stopReason === "cancelled" ? "cancelled" : "done",
        stopReason: event.stopReason,
        cached: event.cached,
        usage: event.usage,
      }));
    }
    case "error":
      return failed(state, tracked, event.requestId, errorInfo(event, at));
    case "quota":
      return { ...state, quota: event.quota, usage: "available" };
    case "models": {
      const keep = state.selectedModelId && event.models.some((m) => m.id === state.selectedModelId);
      return { ...state, models: event.models, defaultModelId: event.defaultModelId, selectedModelId: keep ? state.selectedModelId : event.defaultModelId };
    }
    case "conversations":
      return listed(state, tracked, event);
    case "history": {
      if (event.conversationId !== state.conversationId || (tracked.cursor && state.loadingConversationId)) {
        return tracked.cursor ? { ...state, loadingEarlierHistory: false } : state;
      }
      const turns: ChatMessage[] = event.turns.map((turn, n) => ({
        key: `${event.requestId}:${n}`,
        role: turn.role,
        text: turn.text,
        status: turn.cancelled ? "cancelled" : "done",
        ...(turn.cached ? { cached: true } : {}),
        ...(turn.truncated ? { truncated: true } : {}),
      }));
      const messages = tracked.cursor ? [...turns, ...state.messages] : turns;
      return { ...state, history: "available", messages, loadingConversationId: undefined, historyCursor: event.nextCursor, loadingEarlierHistory: false };
    }
    case "deleteConversation":
      // Removed from the list when asked; `deleted: false` (an unknown id) leaves nothing to show either.
      return state;
    case "cancel":
      // "cancelling": the answer ends with its own `done` (stopReason "cancelled"). "not_running"
      // for an answer that has not started: the gateway cancels it if it ever starts (a lone
      // `done`), so it is stopped as far as the user is concerned. For one that streamed, the
      // gateway finished it before the cancel arrived: its `done` is on its way and says how it ended.
      return event.status === "not_running"
        ? updateAnswer(state, event.targetRequestId, (m) => (isOpen(m) && !hasStarted(state, event.targetRequestId) ? { ...m, status: "cancelled" } : m))
        : state;
  }
}

/**
 * A `conversations` page. A later page (asked with a cursor) extends the list; the first page
 * (asked after every turn) replaces it, unless older pages were loaded: then it is merged in,
 * so the sidebar does not shrink under the user, and the deepest cursor is kept.
 */
function listed(state: ChatState, tracked: TrackedRequest, event: Extract<OutboundEvent, { type: "conversations" }>): ChatState {
  const base = { ...state, history: "available" as const };
  if (tracked.cursor) {
    return {
      ...base,
      conversations: mergeConversations(state.conversations, event.conversations),
      conversationsCursor: event.nextCursor,
      olderConversationsLoaded: true,
      loadingOlderConversations: false,
    };
  }
  if (state.olderConversationsLoaded) return { ...base, conversations: mergeConversations(state.conversations, event.conversations) };
  return { ...base, conversations: sortConversations(event.conversations), conversationsCursor: event.nextCursor };
}

function mergeConversations(shown: ConversationSummary[], page: ConversationSummary[]): ConversationSummary[] {
  const byId = new Map(shown.map((c) => [c.conversationId, c]));
  for (const c of page) byId.set(c.conversationId, c);
  return sortConversations([...byId.values()]);
}

function sortConversations(list: ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

const CONTEXT: Partial<Record<TrackedRequest["action"], string>> = {
  models: "Loading the models",
  usage: "Loading your token usage",
  conversations: "Loading your conversations",
  history: "Opening the conversation",
  deleteConversation: "Deleting the conversation",
  cancel: "Stopping the answer",
};

/** An `error` event: on the answer it belongs to, or as a notice for the other actions. */
function failed(state: ChatState, tracked: TrackedRequest, requestId: string, error: ErrorInfo): ChatState {
  const unsupported = error.code === "invalid_request" && error.details?.action === tracked.action;
  switch (tracked.action) {
    case "chat":
      return updateAnswer(state, requestId, (m) => ({ ...m, status: error.code === "cancelled" ? "cancelled" : "failed", error }));
    case "usage":
      return unsupported ? { ...state, usage: "unavailable" } : { ...state, notice: { context: CONTEXT.usage!, error } };
    case "conversations": {
      const base = { ...state, loadingOlderConversations: false };
      return unsupported ? { ...base, history: "unavailable" } : { ...base, notice: { context: CONTEXT.conversations!, error } };
    }
    case "history":
    case "deleteConversation": {
      const restored = tracked.removed ? sortConversations([...state.conversations, tracked.removed]) : state.conversations;
      const base = { ...state, conversations: restored, loadingConversationId: undefined, loadingEarlierHistory: false };
      return unsupported ? { ...base, history: "unavailable" } : { ...base, notice: { context: CONTEXT[tracked.action]!, error } };
    }
    case "cancel": {
      // The gateway cannot stop the model: stop showing the answer here, and say so.
      const stopped = updateAnswer(state, tracked.targetRequestId!, (m) => (isOpen(m) ? { ...m, status: "cancelled", stoppedLocally: true } : m));
      return unsupported ? { ...stopped, cancel: "unavailable" } : { ...stopped, notice: { context: CONTEXT.cancel!, error } };
    }
    default:
      return { ...state, notice: { context: CONTEXT[tracked.action] ?? "Talking to the gateway", error } };
  }
}

function updateAnswer(state: ChatState, requestId: string, change: (m: ChatMessage) => ChatMessage): ChatState {
  const index = state.messages.findIndex((m) => m.role === "assistant" && m.requestId === requestId);
  if (index < 0) return state;
  const messages = [...state.messages];
  messages[index] = change(messages[index]!);
  return { ...state, messages };
}
