/**
 * Protocol v1, outbound: the events the gateway publishes to `/Outbound-Messages/<sub>`.
 * Every event carries `type`, `requestId` and `seq` (0, 1, 2... per request).
 */
import type { ErrorCode } from "./error-codes.js";

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
}

export interface UsedOfLimit {
  used: number;
  limit: number;
}

export interface QuotaWindow {
  inputTokens: UsedOfLimit;
  outputTokens: UsedOfLimit;
  resetsAt: string;
}

export interface Quota {
  tier: string;
  daily: QuotaWindow;
  monthly: QuotaWindow;
}

export interface ModelSummary {
  id: string;
  name: string;
  provider: string;
  maxOutputTokens: number;
}

export type OutboundBody =
  | { type: "start"; conversationId: string; modelId: string; cached: boolean }
  | { type: "delta"; conversationId: string; text: string }
  | {
      type: "done";
      conversationId: string;
      stopReason: string;
      cached: boolean;
      usage: TokenCounts;
      quota?: Quota;
      latencyMs: { firstToken: number | null; total: number };
    }
  | {
      type: "error";
      conversationId?: string;
      code: ErrorCode;
      message: string;
      retryAfterSeconds?: number;
      details?: Record<string, unknown>;
    }
  | { type: "quota"; quota: Quota }
  | { type: "models"; models: ModelSummary[]; defaultModelId: string }
  /** Newest first; `nextCursor` (send it back as `cursor`) when there are more. */
  | { type: "conversations"; conversations: { conversationId: string; title: string; updatedAt: string }[]; nextCursor?: string }
  /** The newest turns (oldest first); `nextCursor` leads to older ones. */
  | { type: "history"; conversationId: string; turns: HistoryTurn[]; nextCursor?: string }
  /** Answer to `deleteConversation`: `deleted` is false for an unknown (or someone else's) id. */
  | { type: "deleteConversation"; conversationId: string; deleted: boolean }
  /** Answer to `cancel`; the cancelled answer itself ends with `done`, `stopReason: "cancelled"`. */
  | { type: "cancel"; targetRequestId: string; status: "cancelling" | "not_running" };

export interface HistoryTurn {
  role: "user" | "assistant";
  text: string;
  /** When the turn's request arrived. */
  at: string;
  /** The answer came from the prepared-response cache. */
  cached?: boolean;
  /** The user stopped the answer; `text` is what was streamed until then. */
  cancelled?: boolean;
  /** `text` is the beginning of a longer one. */
  truncated?: boolean;
}

export type OutboundEvent = OutboundBody & { requestId: string; seq: number };
