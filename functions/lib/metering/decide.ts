/**
 * The admission decision, a pure function of the user's record, the tier and the time:
 * concurrency, then requests per minute, then tokens (DESIGN 5).
 *
 * - Input: the request's input estimate (an upper bound) must fit what both windows have
 *   left after settled usage and live reservations.
 * - Output: `maxTokens` is clamped to what both windows have left, so the last tokens of a
 *   budget are usable (I2); a request is refused only when not even one output token is left.
 * - Refusals name the window that keeps the user waiting longest, and when enough comes back.
 */
import type { TierConfig } from "../config/schema.js";
import { GatewayError } from "../protocol/errors.js";
import { type AdmissionRecord, type Reservation } from "./record.js";
import { usageAt, type TokenType, type UsageSnapshot, type WindowName } from "./usage.js";
import { bucketLeavesWindowAt, bucketStart, DAY_MS, nextMonthStart, secondsUntil } from "./windows.js";

/** The least a turn needs to be worth running: one output token (I2). */
export const MIN_USEFUL_OUTPUT_TOKENS = 1;

const RATE_WINDOW_MS = 60_000;

export interface AdmissionAsk {
  requestId: string;
  /** Upper bound of the call's input tokens (estimate.ts). */
  inputTokens: number;
  /** The output tokens the turn would like: already bounded by tier and model. */
  maxTokens: number;
}

export interface AdmissionGrant {
  /** Output tokens the model may produce: `ask.maxTokens` clamped to what is left. */
  maxTokens: number;
  reservation: Reservation;
  /** The record to write in place of the one read (version not yet moved). */
  next: AdmissionRecord;
  /** Usage as it was read (without this turn). */
  usage: UsageSnapshot;
}

export function decideAdmission(
  record: AdmissionRecord,
  tier: TierConfig,
  ask: AdmissionAsk,
  now: number,
  reservationTtlMs: number,
): AdmissionGrant {
  // A resend of a request whose worker died replaces that request's reservation.
  const usage = usageAt(record, now, ask.requestId);
  if (usage.active >= tier.maxConcurrentRequests) {
    throw new GatewayError("concurrency_limit", `You can have at most ${tier.maxConcurrentRequests} answers in progress at once. Wait for one to finish.`, {
      retryAfterSeconds: 1,
      details: { limit: tier.maxConcurrentRequests, active: usage.active },
    });
  }
  const recentStarts = record.recentStarts.filter((t) => t > now - RATE_WINDOW_MS && t <= now);
  if (tier.requestsPerMinute !== undefined && recentStarts.length >= tier.requestsPerMinute) {
    throw new GatewayError("rate_limited", `You can start at most ${tier.requestsPerMinute} requests per minute.`, {
      retryAfterSeconds: secondsUntil(Math.min(...recentStarts) + RATE_WINDOW_MS, now),
      details: { limit: tier.requestsPerMinute },
    });
  }

  const inputLeft = tokensLeft(tier, usage, "inputTokens");
  const outputLeft = tokensLeft(tier, usage, "outputTokens");
  const short = [
    ...(["daily", "monthly"] as const).filter((w) => ask.inputTokens > inputLeft[w]).map((w) => ({ window: w, tokenType: "inputTokens" as const, need: ask.inputTokens })),
    ...(["daily", "monthly"] as const).filter((w) => outputLeft[w] < MIN_USEFUL_OUTPUT_TOKENS).map((w) => ({ window: w, tokenType: "outputTokens" as const, need: MIN_USEFUL_OUTPUT_TOKENS })),
  ];
  if (short.length > 0) throw limitExceeded(tier, usage, short, now);

  const maxTokens = Math.min(ask.maxTokens, outputLeft.daily, outputLeft.monthly);
  const reservation: Reservation = { inputTokens: ask.inputTokens, outputTokens: maxTokens, admittedAt: now, expiresAt: now + reservationTtlMs };
  const next: AdmissionRecord = {
    ...record,
    reservations: { ...record.reservations, [ask.requestId]: reservation },
    recentStarts: [...recentStarts, now],
  };
  return { maxTokens, reservation, next, usage };
}

function tokensLeft(tier: TierConfig, usage: UsageSnapshot, type: TokenType): Record<WindowName, number> {
  return {
    daily: tier.limits.daily[type] - usage.daily[type] - usage.reserved[type],
    monthly: tier.limits.monthly[type] - usage.monthly[type] - usage.reserved[type],
  };
}

interface Shortfall {
  window: WindowName;
  tokenType: TokenType;
  /** What the request needed from that window. */
  need: number;
}

/** The refusal for the shortfall that lasts longest (the user must wait for all of them). */
function limitExceeded(tier: TierConfig, usage: UsageSnapshot, short: Shortfall[], now: number): GatewayError {
  const timed = short.map((s) => ({ ...s, at: whenItFits(tier, usage, s, now) }));
  const worst = timed.reduce((a, b) => ((b.at ?? Infinity) > (a.at ?? Infinity) ? b : a));
  const limit = tier.limits[worst.window][worst.tokenType];
  const used = usage[worst.window][worst.tokenType];
  const reserved = usage.reserved[worst.tokenType];
  const kind = worst.tokenType === "inputTokens" ? "input" : "output";
  const message =
    limit === 0
      ? `Your plan has no ${worst.window} ${kind} tokens.`
      : worst.at === undefined
      ? `This message is too long for your ${worst.window} limit of ${limit} ${kind} tokens.`
      : worst.tokenType === "inputTokens"
        ? `This message needs more ${kind} tokens than your ${worst.window} limit of ${limit} has left.`
        : `Your ${worst.window} limit of ${limit} ${kind} tokens is used up.`;
  return new GatewayError("limit_exceeded", message, {
    ...(worst.at !== undefined ? { retryAfterSeconds: secondsUntil(worst.at, now) } : {}),
    details: { window: worst.window, tokenType: worst.tokenType, used: used + reserved, limit, reserved },
  });
}

/**
 * When the request would fit in that window, judged from what is settled now: the month's
 * end; for the rolling window, when enough old buckets have rolled off. Tokens held by live
 * reservations settle into the current bucket, so if those are what must go, the answer is
 * 24 h after the current bucket began. `undefined` when waiting cannot help (the request
 * alone is larger than the limit).
 */
function whenItFits(tier: TierConfig, usage: UsageSnapshot, s: Shortfall, now: number): number | undefined {
  const limit = tier.limits[s.window][s.tokenType];
  if (s.need > limit) return undefined;
  if (s.window === "monthly") return nextMonthStart(now);
  const toFree = usage.daily[s.tokenType] + usage.reserved[s.tokenType] + s.need - limit;
  let freed = 0;
  for (const bucket of usage.buckets) {
    freed += bucket[s.tokenType];
    if (freed >= toFree) return bucketLeavesWindowAt(bucket.id);
  }
  return bucketStart(now) + DAY_MS;
}
