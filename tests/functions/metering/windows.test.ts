import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../../functions/lib/config/parse.js";
import type { TierConfig } from "../../../functions/lib/config/schema.js";
import { decideAdmission } from "../../../functions/lib/metering/decide.js";
import { buildQuota } from "../../../functions/lib/metering/quota.js";
import { emptyRecord, itemFromRecord, recordFromItem, type AdmissionRecord } from "../../../functions/lib/metering/record.js";
import { usageAt } from "../../../functions/lib/metering/usage.js";
import { bucketId, bucketIdStart, inWindow, monthId, nextMonthStart, windowStart } from "../../../functions/lib/metering/windows.js";
import type { GatewayError } from "../../../functions/lib/protocol/errors.js";
import { devLikeConfig } from "../../support/config-fixtures.js";

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TTL = 6 * MINUTE;

function tier(overrides: Partial<TierConfig> = {}): TierConfig {
  const config = parseGatewayConfig(devLikeConfig(), { region: "us-east-1" });
  return { ...config.tiers.default!, ...overrides };
}

const limits = (dailyIn: number, dailyOut: number, monthlyIn = 1_000_000, monthlyOut = 1_000_000) => ({
  daily: { inputTokens: dailyIn, outputTokens: dailyOut },
  monthly: { inputTokens: monthlyIn, outputTokens: monthlyOut },
});

/** A record with settled usage in the given buckets (and the month they fall in). */
function settled(entries: [string, number, number][]): AdmissionRecord {
  const record = emptyRecord();
  record.version = 1;
  for (const [iso, input, output] of entries) {
    const id = bucketId(at(iso));
    record.dailyInput[id] = (record.dailyInput[id] ?? 0) + input;
    record.dailyOutput[id] = (record.dailyOutput[id] ?? 0) + output;
    const month = monthId(at(iso));
    record.monthlyInput[month] = (record.monthlyInput[month] ?? 0) + input;
    record.monthlyOutput[month] = (record.monthlyOutput[month] ?? 0) + output;
  }
  return record;
}

function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected a refusal");
}

const ask = (maxTokens: number, inputTokens = 10) => ({ requestId: "r-new", inputTokens, maxTokens });

describe("metering windows", () => {
  it("names ten-minute buckets and months in UTC, whatever the local time zone says", () => {
    expect(bucketId(at("2025-03-09T07:59:59.999Z"))).toBe("10min:2025-03-09:07:50");
    expect(bucketId(at("2025-03-09T08:00:00.000Z"))).toBe("10min:2025-03-09:08:00");
    expect(bucketId(at("2025-03-09T02:30:00-05:00"))).toBe("10min:2025-03-09:07:30");
    expect(monthId(at("2025-01-31T23:59:59.999Z"))).toBe("monthly:2025-01");
    expect(monthId(at("2025-02-01T00:00:00.000Z"))).toBe("monthly:2025-02");
    expect(bucketIdStart("10min:2025-03-09:07:30")).toBe(at("2025-03-09T07:30:00Z"));
  });

  it("makes the rolling day exactly 144 buckets: the current one and the 143 before it", () => {
    const now = at("2025-03-09T12:34:56Z");
    expect(windowStart(now)).toBe(at("2025-03-08T12:40:00Z"));
    expect(inWindow("10min:2025-03-08:12:40", now)).toBe(true);
    expect(inWindow("10min:2025-03-08:12:30", now)).toBe(false);
    expect(inWindow("10min:2025-03-09:12:30", now)).toBe(true);
    // Ten minutes later the oldest bucket has left.
    expect(inWindow("10min:2025-03-08:12:40", now + 10 * MINUTE)).toBe(false);
  });

  it("reads back only whole bucket ids: anything else has no start, so it never counts", () => {
    for (const id of ["monthly:2025-03", "x10min:2025-03-09:07:30", "10min:2025-03-09:07:30x", "10min:2025-03-09:07:35", ""]) {
      expect(bucketIdStart(id)).toBeNaN();
      expect(inWindow(id, at("2025-03-09T08:00:00Z"))).toBe(false);
    }
  });

  it("counts the bucket that starts at this very instant but none that starts later", () => {
    const now = at("2025-03-09T12:30:00Z");
    expect(inWindow("10min:2025-03-09:12:30", now)).toBe(true);
    // A bucket from a writer whose clock runs ahead is not usage of the window yet.
    expect(inWindow("10min:2025-03-09:12:40", now)).toBe(false);
  });

  it("rolls the month over at 00:00 UTC on the first, also across a year and a leap day", () => {
    expect(nextMonthStart(at("2024-02-29T23:00:00Z"))).toBe(at("2024-03-01T00:00:00Z"));
    expect(nextMonthStart(at("2025-12-31T23:59:59Z"))).toBe(at("2026-01-01T00:00:00Z"));
  });

  it("counts usage from the last 24 h and this month only", () => {
    const now = at("2025-03-01T10:05:00Z");
    const record = settled([
      ["2025-02-28T10:00:00Z", 1000, 100], // 24 h and 5 min ago: out of the window
      ["2025-02-28T10:20:00Z", 200, 20], // in the window, last month
      ["2025-03-01T09:00:00Z", 30, 3],
    ]);
    const usage = usageAt(record, now);
    expect(usage.daily).toEqual({ inputTokens: 230, outputTokens: 23 });
    expect(usage.monthly).toEqual({ inputTokens: 30, outputTokens: 3 });
  });
});

describe("admission decisions", () => {
  const now = at("2025-03-09T12:34:56Z");

  it("clamps maxTokens to what is left, so the last tokens of a budget are usable", () => {
    const record = settled([["2025-03-09T11:00:00Z", 0, 990]]);
    const grant = decideAdmission(record, tier({ limits: limits(10_000, 1000) }), ask(500), now, TTL);
    expect(grant.maxTokens).toBe(10);
    expect(grant.reservation).toEqual({ inputTokens: 10, outputTokens: 10, admittedAt: now, expiresAt: now + TTL });
    const last = decideAdmission(settled([["2025-03-09T11:00:00Z", 0, 999]]), tier({ limits: limits(10_000, 1000) }), ask(500), now, TTL);
    expect(last.maxTokens).toBe(1);
  });

  it("counts live reservations as spent and lets expired ones go", () => {
    const record = settled([]);
    record.reservations.other = { inputTokens: 50, outputTokens: 400, admittedAt: now - MINUTE, expiresAt: now + MINUTE };
    record.reservations.crashed = { inputTokens: 50, outputTokens: 500, admittedAt: now - 2 * TTL, expiresAt: now - TTL };
    const grant = decideAdmission(record, tier({ limits: limits(10_000, 1000) }), ask(1000), now, TTL);
    expect(grant.maxTokens).toBe(600);
    expect(Object.keys(itemFromRecord(grant.next, now).reservations as object).sort()).toEqual(["other", "r-new"]);
  });

  it("refuses when no output token is left, naming the window, the token type, used and limit, and when enough rolls off", () => {
    const record = settled([
      ["2025-03-08T13:05:00Z", 0, 300], // leaves the window at 2025-03-09T13:00Z
      ["2025-03-09T10:00:00Z", 0, 700],
    ]);
    const err = refusal(() => decideAdmission(record, tier({ limits: limits(10_000, 1000) }), ask(100), now, TTL));
    expect(err.code).toBe("limit_exceeded");
    expect(err.extra.details).toMatchObject({ window: "daily", tokenType: "outputTokens", used: 1000, limit: 1000 });
    // One token must roll off: the 13:00 bucket leaves the window at 13:00 the next day, 25 min 4 s from now.
    expect(err.extra.retryAfterSeconds).toBe(1504);
  });

  it("refuses an input estimate that does not fit, and says when it will", () => {
    const record = settled([
      ["2025-03-08T12:25:00Z", 400, 0], // left the window at 2025-03-09T12:20Z
      ["2025-03-08T14:00:00Z", 300, 0], // leaves at 2025-03-09T14:00Z
      ["2025-03-09T09:00:00Z", 600, 0], // leaves at 2025-03-10T09:00Z
    ]);
    const err = refusal(() => decideAdmission(record, tier({ limits: limits(1000, 10_000) }), ask(100, 200), now, TTL));
    expect(err.extra.details).toMatchObject({ window: "daily", tokenType: "inputTokens", used: 900, limit: 1000 });
    // 100 must roll off: the 14:00 bucket frees 300.
    expect(err.extra.retryAfterSeconds).toBe(5104);
  });

  it("sends a user who spent the month to the first of next month, UTC", () => {
    const record = settled([["2025-03-02T09:00:00Z", 0, 5000]]);
    const err = refusal(() => decideAdmission(record, tier({ limits: limits(10_000, 10_000, 10_000, 5000) }), ask(100), now, TTL));
    expect(err.extra.details).toMatchObject({ window: "monthly", tokenType: "outputTokens", used: 5000, limit: 5000 });
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((at("2025-04-01T00:00:00Z") - now) / 1000));
    // A new month starts from nothing.
    const april = decideAdmission(record, tier({ limits: limits(10_000, 10_000, 10_000, 5000) }), ask(100), at("2025-04-01T00:00:01Z"), TTL);
    expect(april.maxTokens).toBe(100);
  });

  it("names the window that keeps the user waiting longest when both are spent", () => {
    const record = settled([["2025-03-09T09:00:00Z", 0, 5000]]);
    const err = refusal(() => decideAdmission(record, tier({ limits: limits(10_000, 5000, 10_000, 5000) }), ask(100), now, TTL));
    expect(err.extra.details).toMatchObject({ window: "monthly" });
  });

  it("refuses a message larger than the whole limit without a retry hint that could never come true", () => {
    const err = refusal(() => decideAdmission(settled([]), tier({ limits: limits(100, 10_000) }), ask(100, 101), now, TTL));
    expect(err.code).toBe("limit_exceeded");
    expect(err.extra.retryAfterSeconds).toBeUndefined();
    expect(err.message).toMatch(/too long/);
  });

  it("refuses beyond maxConcurrentRequests with concurrency_limit, counting only live reservations", () => {
    const record = settled([]);
    record.reservations.a = { inputTokens: 1, outputTokens: 1, admittedAt: now, expiresAt: now + MINUTE };
    record.reservations.b = { inputTokens: 1, outputTokens: 1, admittedAt: now, expiresAt: now + MINUTE };
    const err = refusal(() => decideAdmission(record, tier({ maxConcurrentRequests: 2 }), ask(10), now, TTL));
    expect(err.code).toBe("concurrency_limit");
    expect(err.extra.details).toEqual({ limit: 2, active: 2 });
    record.reservations.b!.expiresAt = now - 1;
    expect(decideAdmission(record, tier({ maxConcurrentRequests: 2 }), ask(10), now, TTL).maxTokens).toBe(10);
  });

  it("refuses beyond requestsPerMinute with rate_limited until the oldest start is a minute old", () => {
    const record = settled([]);
    record.recentStarts = [now - 50_000, now - 20_000, now - 61_000];
    const err = refusal(() => decideAdmission(record, tier({ requestsPerMinute: 2 }), ask(10), now, TTL));
    expect(err.code).toBe("rate_limited");
    expect(err.extra.retryAfterSeconds).toBe(10);
    const later = decideAdmission(record, tier({ requestsPerMinute: 2 }), ask(10), now + 10_001, TTL);
    expect(later.next.recentStarts).toEqual([now - 20_000, now + 10_001]);
  });

  it("keeps only what still matters when the record is written back", () => {
    const record = settled([
      ["2025-02-20T10:00:00Z", 5, 5],
      ["2025-03-09T10:00:00Z", 7, 7],
    ]);
    const item = itemFromRecord(record, now);
    expect(item.daily_in).toEqual({ "10min:2025-03-09:10:00": 7 });
    expect(item.monthly_out).toEqual({ "monthly:2025-03": 7 });
    expect(recordFromItem(item).dailyInput).toEqual({ "10min:2025-03-09:10:00": 7 });
    // TTL: after the month and the window are over, plus a day.
    expect(item.ttl).toBe(at("2025-04-02T00:00:00Z") / 1000);
  });
});

describe("quota", () => {
  it("reports used and limit per window, when the oldest usage rolls off, and the next month", () => {
    const now = at("2025-03-09T12:34:56Z");
    const record = settled([
      ["2025-03-08T20:00:00Z", 11, 22],
      ["2025-03-09T12:00:00Z", 1, 2],
    ]);
    expect(buildQuota("default", tier({ limits: limits(1000, 2000, 30_000, 40_000) }), usageAt(record, now), now)).toEqual({
      tier: "default",
      daily: { inputTokens: { used: 12, limit: 1000 }, outputTokens: { used: 24, limit: 2000 }, resetsAt: "2025-03-09T20:00:00.000Z" },
      monthly: { inputTokens: { used: 12, limit: 30_000 }, outputTokens: { used: 24, limit: 40_000 }, resetsAt: "2025-04-01T00:00:00.000Z" },
    });
  });

  it("with nothing used, says the day resets when usage made now would roll off", () => {
    const now = at("2025-03-09T12:34:56Z");
    const quota = buildQuota("default", tier({ limits: limits(1000, 2000) }), usageAt(emptyRecord(), now), now);
    expect(quota.daily).toEqual({ inputTokens: { used: 0, limit: 1000 }, outputTokens: { used: 0, limit: 2000 }, resetsAt: "2025-03-10T12:30:00.000Z" });
  });

  it("takes the reset from the oldest bucket whatever order the record keeps them in", () => {
    const now = at("2025-03-09T12:34:56Z");
    const record = settled([
      ["2025-03-09T12:00:00Z", 1, 2],
      ["2025-03-08T20:00:00Z", 11, 22],
      ["2025-03-09T01:00:00Z", 3, 4],
    ]);
    expect(usageAt(record, now).buckets.map((b) => b.id)).toEqual(["10min:2025-03-08:20:00", "10min:2025-03-09:01:00", "10min:2025-03-09:12:00"]);
    expect(buildQuota("default", tier(), usageAt(record, now), now).daily.resetsAt).toBe("2025-03-09T20:00:00.000Z");
  });

  it("ignores buckets that hold no tokens, so the reset names a moment when usage goes down", () => {
    const now = at("2025-03-09T12:34:56Z");
    const record = settled([["2025-03-09T06:00:00Z", 4, 0]]);
    // A bucket left at zero (written and then corrected, or only one token type) is no usage.
    record.dailyInput["10min:2025-03-08:20:00"] = 0;
    record.dailyOutput["10min:2025-03-08:20:00"] = 0;
    const usage = usageAt(record, now);
    expect(usage.buckets).toEqual([{ id: "10min:2025-03-09:06:00", inputTokens: 4, outputTokens: 0 }]);
    expect(buildQuota("default", tier(), usage, now).daily.resetsAt).toBe("2025-03-10T06:00:00.000Z");
  });

  it("counts the input and output tokens held by live reservations apart from settled usage", () => {
    const now = at("2025-03-09T12:34:56Z");
    const record = settled([["2025-03-09T12:00:00Z", 1, 2]]);
    const hold = (inputTokens: number, outputTokens: number, expiresAt: number) => ({ inputTokens, outputTokens, admittedAt: now - MINUTE, expiresAt });
    record.reservations = { a: hold(5, 50, now + TTL), b: hold(3, 30, now + TTL), gone: hold(100, 100, now - 1) };
    const usage = usageAt(record, now);
    expect(usage.reserved).toEqual({ inputTokens: 8, outputTokens: 80 });
    expect(usage.active).toBe(2);
    expect(usage.daily).toEqual({ inputTokens: 1, outputTokens: 2 });
    // The turn being decided does not count against itself.
    expect(usageAt(record, now, "a").reserved).toEqual({ inputTokens: 3, outputTokens: 30 });
  });
});
