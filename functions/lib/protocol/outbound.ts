/**
 * Protocol v1, outbound: the events the gateway publishes to `/Outbound-Messages/<sub>`.
 * Every event carries `type`, `requestId` and `seq` (0, 1, 2... per request).
 */
import type { ErrorCode } from "./errors.js";

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
  | { type: "conversations"; conversations: { conversationId: string; title: string; updatedAt: string }[] }
  | { type: "history"; conversationId: string; turns: { role: "user" | "assistant"; text: string; at: string }[] };

export type OutboundEvent = OutboundBody & { requestId: string; seq: number };
