/**
 * The chat screen's state: what the user sees, derived only from what was sent and the
 * protocol events received. The reducer (reducer.ts) is the one place that changes it.
 */
import type { InboundAction, InboundRequest } from "../../../functions/lib/protocol/inbound.js";
import type { ModelSummary, OutboundEvent, Quota, TokenCounts } from "../../../functions/lib/protocol/outbound.js";
import type { ErrorInfo } from "./errors.js";

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "failed";

export type MessageStatus =
  /** Sent; no `start` yet. */
  | "waiting"
  | "streaming"
  | "done"
  /** Stop was pressed; the gateway has not confirmed yet. */
  | "stopping"
  | "cancelled"
  | "failed"
  /** The connection dropped while it streamed: parts of the answer may be missing. */
  | "interrupted";

export interface ChatMessage {
  /** Stable key: `<requestId>:user`, `<requestId>` (the answer) or `history:<n>`. */
  key: string;
  role: "user" | "assistant";
  text: string;
  status: MessageStatus;
  requestId?: string;
  modelId?: string;
  cached?: boolean;
  stopReason?: string;
  usage?: TokenCounts;
  error?: ErrorInfo;
  /** How many times the request was sent again because no answer started in time. */
  resends?: number;
  /** Stop could not reach the gateway (no `cancel` there yet): later deltas are not shown. */
  stoppedLocally?: boolean;
  /** From history: only the beginning of a longer answer was kept. */
  truncated?: boolean;
}

export interface ConversationSummary {
  conversationId: string;
  title: string;
  updatedAt: string;
}

/** One request the UI sent and still follows: its events are applied in `seq` order, once. */
export interface TrackedRequest {
  action: InboundAction;
  conversationId?: string;
  targetRequestId?: string;
  /** For conversations and history: the page asked for (`nextCursor` of the previous one). */
  cursor?: string;
  /** The next `seq` to apply; lower ones are repeats. */
  nextSeq: number;
  /** Events that arrived ahead of a gap, by seq. */
  early: Record<number, OutboundEvent>;
  finished: boolean;
  /** The connection dropped while it was open: a final event may come after a gap. */
  lostEvents?: boolean;
  /** For deleteConversation: the entry removed optimistically, restored on an error. */
  removed?: ConversationSummary;
}

/** A feature's availability on this gateway: unknown until asked, false after `invalid_request` for the action. */
export type Support = "unknown" | "available" | "unavailable";

export interface Notice {
  /** What the UI was doing, e.g. "Loading your conversations". */
  context: string;
  error: ErrorInfo;
}

export interface ChatState {
  connection: ConnectionStatus;
  conversationId: string;
  messages: ChatMessage[];
  requests: Record<string, TrackedRequest>;
  models: ModelSummary[];
  defaultModelId?: string;
  selectedModelId?: string;
  quota?: Quota;
  usage: Support;
  conversations: ConversationSummary[];
  /** Where the next, older page of conversations starts; absent when the list is complete. */
  conversationsCursor?: string;
  /** Older pages were loaded: a refresh of the first page merges instead of replacing. */
  olderConversationsLoaded?: boolean;
  loadingOlderConversations?: boolean;
  history: Support;
  /** The conversation whose history is being loaded. */
  loadingConversationId?: string;
  /** Where the open conversation's earlier turns start; absent when all are shown. */
  historyCursor?: string;
  loadingEarlierHistory?: boolean;
  cancel: Support;
  notice?: Notice;
}

export type ChatAction =
  | { type: "connection"; status: ConnectionStatus }
  | { type: "sent"; request: InboundRequest; at: number }
  | { type: "resent"; requestId: string }
  | { type: "received"; event: OutboundEvent; at: number }
  | { type: "newChat"; conversationId: string }
  | { type: "selectModel"; modelId: string }
  | { type: "dismissNotice" };

export function initialChatState(conversationId: string, preferredModelId?: string): ChatState {
  return {
    connection: "connecting",
    conversationId,
    messages: [],
    requests: {},
    models: [],
    selectedModelId: preferredModelId,
    usage: "unknown",
    conversations: [],
    history: "unknown",
    cancel: "unknown",
  };
}

/** The answer still being produced in the open conversation, if any (what Stop stops). */
export function activeAnswer(state: ChatState): ChatMessage | undefined {
  return state.messages.find((m) => m.role === "assistant" && (m.status === "waiting" || m.status === "streaming" || m.status === "stopping"));
}
