/**
 * What an admission record says about a user at a moment: settled usage per window and the
 * tokens held by live reservations. Shared by admission, refusals and the `quota` answer.
 */
import type { TokenCounts } from "../protocol/outbound.js";
import { liveReservations, type AdmissionRecord } from "./record.js";
import { bucketIdStart, inWindow, monthId } from "./windows.js";

export type WindowName = "daily" | "monthly";
export type TokenType = keyof TokenCounts;

export interface UsageSnapshot {
  /** Settled tokens in the rolling 24 h. */
  daily: TokenCounts;
  /** Settled tokens this calendar month. */
  monthly: TokenCounts;
  /** Held by live reservations (they count against both windows). */
  reserved: TokenCounts;
  /** Buckets in the window that hold usage, oldest first. */
  buckets: { id: string; inputTokens: number; outputTokens: number }[];
  /** Live reservations. */
  active: number;
}

export function usageAt(record: AdmissionRecord, now: number, exceptRequest?: string): UsageSnapshot {
  const ids = new Set([...Object.keys(record.dailyInput), ...Object.keys(record.dailyOutput)]);
  const buckets = [...ids]
    .filter((id) => inWindow(id, now))
    .sort((a, b) => bucketIdStart(a) - bucketIdStart(b))
    .map((id) => ({ id, inputTokens: record.dailyInput[id] ?? 0, outputTokens: record.dailyOutput[id] ?? 0 }))
    .filter((b) => b.inputTokens > 0 || b.outputTokens > 0);
  const month = monthId(now);
  const live = liveReservations(record, now, exceptRequest);
  return {
    daily: {
      inputTokens: buckets.reduce((sum, b) => sum + b.inputTokens, 0),
      outputTokens: buckets.reduce((sum, b) => sum + b.outputTokens, 0),
    },
    monthly: { inputTokens: record.monthlyInput[month] ?? 0, outputTokens: record.monthlyOutput[month] ?? 0 },
    reserved: {
      inputTokens: live.reduce((sum, [, r]) => sum + r.inputTokens, 0),
      outputTokens: live.reduce((sum, [, r]) => sum + r.outputTokens, 0),
    },
    buckets,
    active: live.length,
  };
}
