/**
 * The protocol's `quota` (DESIGN 4): settled usage against the caller's tier limits per
 * window, and when each window gives tokens back.
 */
import type { TierConfig } from "../config/schema.js";
import type { Quota } from "../protocol/outbound.js";
import type { UsageSnapshot } from "./usage.js";
import { bucketLeavesWindowAt, bucketStart, DAY_MS, nextMonthStart } from "./windows.js";

/**
 * `daily.resetsAt` is when the oldest usage still counted rolls off, the next moment `used`
 * goes down (with nothing used: when usage made now would roll off). `monthly.resetsAt` is
 * 00:00 UTC on the first of next month.
 */
export function buildQuota(tierName: string, tier: TierConfig, usage: UsageSnapshot, now: number): Quota {
  const { daily, monthly } = tier.limits;
  const oldest = usage.buckets[0];
  const dailyResetsAt = oldest ? bucketLeavesWindowAt(oldest.id) : bucketStart(now) + DAY_MS;
  return {
    tier: tierName,
    daily: {
      inputTokens: { used: usage.daily.inputTokens, limit: daily.inputTokens },
      outputTokens: { used: usage.daily.outputTokens, limit: daily.outputTokens },
      resetsAt: new Date(dailyResetsAt).toISOString(),
    },
    monthly: {
      inputTokens: { used: usage.monthly.inputTokens, limit: monthly.inputTokens },
      outputTokens: { used: usage.monthly.outputTokens, limit: monthly.outputTokens },
      resetsAt: new Date(nextMonthStart(now)).toISOString(),
    },
  };
}
