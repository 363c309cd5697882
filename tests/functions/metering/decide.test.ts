/**
 * The admission decision (decide.ts) and the admission record's stored form (record.ts) as
 * pure functions: which limit refuses first, the exact boundaries, what a refusal says and
 * when it says to retry, and what the record keeps when it is written.
 */
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../../functions/lib/config/parse.js";
import type { TierConfig } from "../../../functions/lib/config/schema.js";
import { decideAdmission } from "../../../functions/lib/metering/decide.js";
import {
  admissionRecordExpiry,
  ATTR,
  emptyRecord,
  itemFromRecord,
  liveReservations,
  recordFromItem,
  type AdmissionRecord,
  type Reservation,
} from "../../../functions/lib/metering/record.js";
import { bucketId, BUCKET_MS, bucketStart, DAY_MS, monthId, nextMonthStart } from "../../../functions/lib/metering/windows.js";
import { GatewayError } from "../../../functions/lib/protocol/errors.js";
import { devLikeConfig } from "../../support/config-fixtures.js";

// Mid-month, mid-bucket: 2030-05-14 09:03:20 UTC.
const NOW = Date.parse("2030-05-14T09:03:20Z");
const TTL_MS = 360_000;
const BASE = parseGatewayConfig(devLikeConfig(), { region: "us-east-1" }).tiers.default!;

function tier(overrides: Partial<TierConfig> = {}): TierConfig {
  return {
    ...BASE,
    limits: { daily: { inputTokens: 1000, outputTokens: 500 }, monthly: { inputTokens: 10_000, outputTokens: 5000 } },
    maxConcurrentRequests: 3,
    requestsPerMinute: undefined,
    ...overrides,
  };
}

const reservation = (overrides: Partial<Reservation> = {}): Reservation => ({ inputTokens: 10, outputTokens: 20, admittedAt: NOW - 1000, expiresAt: NOW + 60_000, ...overrides });

function record(overrides: Partial<AdmissionRecord> = {}): AdmissionRecord {
  return { ...emptyRecord(), version: 4, ...overrides };
}

/** Settled usage in one bucket `minutesAgo` before NOW, counted in the month too. */
function settled(minutesAgo: number, input: number, output: number): Partial<AdmissionRecord> {
  const id = bucketId(NOW - minutesAgo * 60_000);
  return { dailyInput: { [id]: input }, dailyOutput: { [id]: output }, monthlyInput: { [monthId(NOW)]: input }, monthlyOutput: { [monthId(NOW)]: output } };
}

const ask = (inputTokens: number, maxTokens: number, requestId = "new") => ({ requestId, inputTokens, maxTokens });

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("admission: concurrency and rate", () => {
  it("refuses a turn beyond maxConcurrentRequests live answers, and admits the last one that fits", () => {
    const two = record({ reservations: { a: reservation(), b: reservation() } });
    expect(decideAdmission(two, tier(), ask(10, 10), NOW, TTL_MS).maxTokens).toBe(10);
    const three = record({ reservations: { a: reservation(), b: reservation(), c: reservation() } });
    const err = refusal(() => decideAdmission(three, tier(), ask(10, 10), NOW, TTL_MS));
    expect(err.code).toBe("concurrency_limit");
    expect(err.message).toBe("You can have at most 3 answers in progress at once. Wait for one to finish.");
    expect(err.extra).toEqual({ retryAfterSeconds: 1, details: { limit: 3, active: 3 } });
  });

  it("counts neither expired reservations nor the resent request's own", () => {
    const held = record({ reservations: { a: reservation(), gone: reservation({ expiresAt: NOW }), same: reservation() } });
    const grant = decideAdmission(held, tier({ maxConcurrentRequests: 2 }), ask(10, 10, "same"), NOW, TTL_MS);
    expect(grant.usage.active).toBe(1);
    expect(Object.keys(grant.next.reservations).sort()).toEqual(["a", "gone", "same"]);
    expect(grant.next.reservations.same).toEqual({ inputTokens: 10, outputTokens: 10, admittedAt: NOW, expiresAt: NOW + TTL_MS });
  });

  it("refuses a start beyond requestsPerMinute in the last minute, saying when the oldest start leaves it", () => {
    const starts = record({ recentStarts: [NOW - 59_000, NOW - 20_000] });
    const err = refusal(() => decideAdmission(starts, tier({ requestsPerMinute: 2 }), ask(10, 10), NOW, TTL_MS));
    expect(err.code).toBe("rate_limited");
    expect(err.message).toBe("You can start at most 2 requests per minute.");
    expect(err.extra).toEqual({ retryAfterSeconds: 1, details: { limit: 2 } });
    const later = refusal(() => decideAdmission(record({ recentStarts: [NOW - 20_000, NOW - 10_000] }), tier({ requestsPerMinute: 2 }), ask(10, 10), NOW, TTL_MS));
    expect(later.extra.retryAfterSeconds).toBe(40);
  });

  it("counts starts of the last 60 s only: not one exactly a minute old, nor one in the future", () => {
    const edge = record({ recentStarts: [NOW - 60_000, NOW - 1000, NOW + 5000] });
    const grant = decideAdmission(edge, tier({ requestsPerMinute: 2 }), ask(10, 10), NOW, TTL_MS);
    expect(grant.next.recentStarts).toEqual([NOW - 1000, NOW]);
  });

  it("has no rate limit when requestsPerMinute is not set", () => {
    const busy = record({ recentStarts: Array.from({ length: 500 }, (_, i) => NOW - i * 100) });
    expect(() => decideAdmission(busy, tier(), ask(10, 10), NOW, TTL_MS)).not.toThrow();
  });
});

describe("admission: tokens", () => {
  it("admits an input estimate that fills what is left exactly, and refuses one token more", () => {
    const used = record({ ...settled(30, 600, 0), reservations: { a: reservation({ inputTokens: 100, outputTokens: 0 }) } });
    expect(() => decideAdmission(used, tier(), ask(300, 10), NOW, TTL_MS)).not.toThrow();
    const err = refusal(() => decideAdmission(used, tier(), ask(301, 10), NOW, TTL_MS));
    expect(err.code).toBe("limit_exceeded");
    expect(err.message).toBe("This message needs more input tokens than your daily limit of 1000 has left.");
    expect(err.extra.details).toEqual({ window: "daily", tokenType: "inputTokens", used: 700, limit: 1000, reserved: 100 });
    // 600 settled 30 min ago must roll off for 301 to fit beside the 100 reserved: 24 h after that bucket began.
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW - 30 * 60_000) + DAY_MS - NOW) / 1000));
  });

  it("clamps output to what both windows have left, reservations included, and reserves that", () => {
    const used = record({ ...settled(30, 0, 300), monthlyOutput: { [monthId(NOW)]: 4850 }, reservations: { a: reservation({ inputTokens: 0, outputTokens: 50 }) } });
    // Daily: 500 - 300 - 50 = 150 left; monthly: 5000 - 4850 - 50 = 100 left.
    const grant = decideAdmission(used, tier(), ask(10, 400), NOW, TTL_MS);
    expect(grant.maxTokens).toBe(100);
    expect(grant.reservation).toEqual({ inputTokens: 10, outputTokens: 100, admittedAt: NOW, expiresAt: NOW + TTL_MS });
    expect(decideAdmission(used, tier(), ask(10, 60), NOW, TTL_MS).maxTokens).toBe(60);
  });

  it("admits with one output token left and refuses with none, saying the limit is used up until the oldest usage rolls off", () => {
    const oneLeft = record(settled(100, 0, 499));
    expect(decideAdmission(oneLeft, tier(), ask(10, 400), NOW, TTL_MS).maxTokens).toBe(1);
    const none = record(settled(100, 0, 500));
    const err = refusal(() => decideAdmission(none, tier(), ask(10, 400), NOW, TTL_MS));
    expect(err.message).toBe("Your daily limit of 500 output tokens is used up.");
    expect(err.extra.details).toEqual({ window: "daily", tokenType: "outputTokens", used: 500, limit: 500, reserved: 0 });
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW - 100 * 60_000) + DAY_MS - NOW) / 1000));
  });

  it("names the window that keeps the user waiting longest: the month over the day", () => {
    const both = record({ ...settled(100, 0, 500), monthlyOutput: { [monthId(NOW)]: 5000 } });
    const err = refusal(() => decideAdmission(both, tier(), ask(10, 400), NOW, TTL_MS));
    expect(err.message).toBe("Your monthly limit of 5000 output tokens is used up.");
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((nextMonthStart(NOW) - NOW) / 1000));
    expect(err.extra.details).toMatchObject({ window: "monthly", used: 5000 });
  });

  it("names the day over the month when the day frees later (the month ends sooner)", () => {
    const lastDay = Date.parse("2030-05-31T23:50:00Z");
    const id = bucketId(lastDay - 5 * 60_000);
    const spent = record({ dailyOutput: { [id]: 500 }, monthlyOutput: { [monthId(lastDay)]: 5000 } });
    const err = refusal(() => decideAdmission(spent, tier(), ask(10, 10), lastDay, TTL_MS));
    expect(err.extra.details).toMatchObject({ window: "daily", tokenType: "outputTokens" });
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(lastDay - 5 * 60_000) + DAY_MS - lastDay) / 1000));
  });

  it("says a message is too long, with no time to wait, when it alone is larger than a limit", () => {
    const err = refusal(() => decideAdmission(record(), tier(), ask(1001, 10), NOW, TTL_MS));
    expect(err.message).toBe("This message is too long for your daily limit of 1000 input tokens.");
    expect(err.extra.retryAfterSeconds).toBeUndefined();
    expect(err.extra).not.toHaveProperty("retryAfterSeconds");
    // Exactly the limit is not too long.
    expect(decideAdmission(record(), tier(), ask(1000, 10), NOW, TTL_MS).maxTokens).toBe(10);
  });

  it("prefers the too-long refusal over a timed one, and says so for the month's limit", () => {
    const err = refusal(() => decideAdmission(record(settled(100, 0, 500)), tier({ limits: { daily: { inputTokens: 100_000, outputTokens: 500 }, monthly: { inputTokens: 2000, outputTokens: 5000 } } }), ask(2001, 10), NOW, TTL_MS));
    expect(err.message).toBe("This message is too long for your monthly limit of 2000 input tokens.");
  });

  it("on a tie between windows names the day", () => {
    const same = tier({ limits: { daily: { inputTokens: 1000, outputTokens: 500 }, monthly: { inputTokens: 1000, outputTokens: 5000 } } });
    expect(refusal(() => decideAdmission(record(), same, ask(1001, 10), NOW, TTL_MS)).message).toBe("This message is too long for your daily limit of 1000 input tokens.");
  });

  it("times a request of exactly the limit by when the window is empty enough, not as too long", () => {
    const err = refusal(() => decideAdmission(record(settled(100, 100, 0)), tier(), ask(1000, 10), NOW, TTL_MS));
    expect(err.message).toBe("This message needs more input tokens than your daily limit of 1000 has left.");
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW - 100 * 60_000) + DAY_MS - NOW) / 1000));
  });

  it("counts reservations among what must roll off before a daily refusal ends", () => {
    const older = bucketId(NOW - 600 * 60_000);
    const newer = bucketId(NOW - 60 * 60_000);
    const used = record({ dailyInput: { [older]: 200, [newer]: 600 }, monthlyInput: { [monthId(NOW)]: 800 }, reservations: { a: reservation({ inputTokens: 100 }) } });
    // 800 settled and 100 reserved, asking 400: 300 must go, more than the older bucket's 200.
    const err = refusal(() => decideAdmission(used, tier(), ask(400, 10), NOW, TTL_MS));
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW - 60 * 60_000) + DAY_MS - NOW) / 1000));
  });

  it("says a plan has no tokens of a kind when its limit is 0", () => {
    const none = tier({ limits: { daily: { inputTokens: 1000, outputTokens: 0 }, monthly: { inputTokens: 10_000, outputTokens: 5000 } } });
    expect(refusal(() => decideAdmission(record(), none, ask(10, 10), NOW, TTL_MS)).message).toBe("Your plan has no daily output tokens.");
    const noInput = tier({ limits: { daily: { inputTokens: 1000, outputTokens: 500 }, monthly: { inputTokens: 0, outputTokens: 5000 } } });
    expect(refusal(() => decideAdmission(record(), noInput, ask(10, 10), NOW, TTL_MS)).message).toBe("Your plan has no monthly input tokens.");
  });

  it("times a daily refusal by the buckets that must roll off, oldest first, to the one that frees enough", () => {
    const older = bucketId(NOW - 600 * 60_000);
    const newer = bucketId(NOW - 60 * 60_000);
    const used = record({ dailyInput: { [older]: 200, [newer]: 700 }, monthlyInput: { [monthId(NOW)]: 900 } });
    // 900 used, asking 300: 200 must go, which the older bucket frees exactly.
    const exact = refusal(() => decideAdmission(used, tier(), ask(300, 10), NOW, TTL_MS));
    expect(exact.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW - 600 * 60_000) + DAY_MS - NOW) / 1000));
    // Asking 301: 201 must go, so the newer bucket too.
    const more = refusal(() => decideAdmission(used, tier(), ask(301, 10), NOW, TTL_MS));
    expect(more.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW - 60 * 60_000) + DAY_MS - NOW) / 1000));
  });

  it("times a refusal caused by reservations to 24 h after the current bucket began (they settle into it)", () => {
    const held = record({ reservations: { a: reservation({ inputTokens: 950 }) } });
    const err = refusal(() => decideAdmission(held, tier(), ask(100, 10), NOW, TTL_MS));
    expect(err.extra.details).toEqual({ window: "daily", tokenType: "inputTokens", used: 950, limit: 1000, reserved: 950 });
    expect(err.extra.retryAfterSeconds).toBe(Math.ceil((bucketStart(NOW) + DAY_MS - NOW) / 1000));
  });

  it("writes the admitted turn's reservation and start into the next record, keeping the rest", () => {
    const before = record({ ...settled(30, 5, 6), reservations: { a: reservation() }, recentStarts: [NOW - 1000] });
    const grant = decideAdmission(before, tier(), ask(10, 10), NOW, TTL_MS);
    expect(grant.next).toEqual({ ...before, reservations: { a: reservation(), new: grant.reservation }, recentStarts: [NOW - 1000, NOW] });
    expect(before.reservations).toEqual({ a: reservation() });
    expect(grant.usage).toMatchObject({ daily: { inputTokens: 5, outputTokens: 6 }, reserved: { inputTokens: 10, outputTokens: 20 }, active: 1 });
  });
});

describe("the admission record as stored", () => {
  it("reads a missing item as an empty record at version 0", () => {
    expect(recordFromItem(undefined)).toEqual(emptyRecord());
    expect(emptyRecord()).toEqual({ version: 0, dailyInput: {}, dailyOutput: {}, monthlyInput: {}, monthlyOutput: {}, reservations: {}, recentStarts: [] });
    expect(recordFromItem({})).toEqual(emptyRecord());
  });

  it("round-trips a record through its item at the same moment", () => {
    const id = bucketId(NOW);
    const r = record({
      dailyInput: { [id]: 5 },
      dailyOutput: { [id]: 6 },
      monthlyInput: { [monthId(NOW)]: 7 },
      monthlyOutput: { [monthId(NOW)]: 8 },
      reservations: { a: reservation() },
      recentStarts: [NOW - 30_000],
    });
    const item = itemFromRecord(r, NOW);
    expect(item).toEqual({
      version: 4,
      daily_in: { [id]: 5 },
      daily_out: { [id]: 6 },
      monthly_in: { [monthId(NOW)]: 7 },
      monthly_out: { [monthId(NOW)]: 8 },
      reservations: { a: { in: 10, out: 20, at: NOW - 1000, exp: NOW + 60_000 } },
      starts: [NOW - 30_000],
      ttl: admissionRecordExpiry(NOW),
    });
    expect(recordFromItem(item)).toEqual(r);
  });

  it("drops on writing what no longer matters: old buckets, other months, ended reservations, starts a minute old", () => {
    const old = bucketId(NOW - DAY_MS);
    const kept = bucketId(NOW - DAY_MS + BUCKET_MS);
    const r = record({
      dailyInput: { [old]: 1, [kept]: 2 },
      dailyOutput: { [old]: 3 },
      monthlyInput: { "monthly:2030-04": 9, [monthId(NOW)]: 1 },
      monthlyOutput: { "monthly:2030-04": 9 },
      reservations: { ended: reservation({ expiresAt: NOW }), live: reservation({ expiresAt: NOW + 1 }) },
      recentStarts: [NOW - 60_000, NOW - 59_999],
    });
    const item = itemFromRecord(r, NOW);
    expect(item[ATTR.dailyInput]).toEqual({ [kept]: 2 });
    expect(item[ATTR.dailyOutput]).toEqual({});
    expect(item[ATTR.monthlyInput]).toEqual({ [monthId(NOW)]: 1 });
    expect(item[ATTR.monthlyOutput]).toEqual({});
    expect(Object.keys(item[ATTR.reservations] as object)).toEqual(["live"]);
    expect(item[ATTR.recentStarts]).toEqual([NOW - 59_999]);
  });

  it("reads malformed attributes as empty rather than failing: non-numbers, non-objects, missing fields", () => {
    const read = recordFromItem({
      version: "7",
      daily_in: { a: 1, b: "2", c: null },
      daily_out: "nonsense",
      monthly_in: null,
      monthly_out: 5,
      reservations: { r: { in: 3 }, s: {} },
      starts: "not a list",
    });
    expect(read).toEqual({
      version: 7,
      dailyInput: { a: 1 },
      dailyOutput: {},
      monthlyInput: {},
      monthlyOutput: {},
      reservations: { r: { inputTokens: 3, outputTokens: 0, admittedAt: 0, expiresAt: 0 }, s: { inputTokens: 0, outputTokens: 0, admittedAt: 0, expiresAt: 0 } },
      recentStarts: [],
    });
    const fromStrings = recordFromItem({ reservations: "x", starts: ["5", 6] });
    expect(fromStrings.reservations).toEqual({});
    expect(fromStrings.recentStarts).toEqual([5, 6]);
    expect(recordFromItem({ reservations: { r: { in: 1, out: 2, at: 3, exp: 4 } } }).reservations.r).toEqual({ inputTokens: 1, outputTokens: 2, admittedAt: 3, expiresAt: 4 });
  });

  it("expires the record a day after both the month and the rolling window are over", () => {
    expect(admissionRecordExpiry(NOW)).toBe(Math.ceil((nextMonthStart(NOW) + DAY_MS) / 1000));
    // On a month's last day the window outlasts the month.
    const lastHour = Date.parse("2030-05-31T23:00:00Z");
    expect(admissionRecordExpiry(lastHour)).toBe(Math.ceil((lastHour + 2 * DAY_MS) / 1000));
  });

  it("counts a reservation live until its expiry, not at it, and leaves out the one excepted", () => {
    const r = record({ reservations: { a: reservation({ expiresAt: NOW + 1 }), b: reservation({ expiresAt: NOW }), c: reservation() } });
    expect(liveReservations(r, NOW).map(([id]) => id)).toEqual(["a", "c"]);
    expect(liveReservations(r, NOW, "c").map(([id]) => id)).toEqual(["a"]);
  });
});
