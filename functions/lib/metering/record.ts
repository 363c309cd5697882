/**
 * The per-user admission record (`period_id = "admission"`), the one item every admission
 * decision reads and writes (DESIGN 5, I3). It holds the window's settled totals per bucket
 * and the month's, the turns holding a reservation, and the recent admissions' times, under a
 * version that every write moves on.
 *
 * Why the totals live here and not only in the bucket and month rows: DynamoDB conditions
 * cannot sum across items, and a Query over the partition is not isolated from a settlement
 * transaction (read-committed per item), so a decision read from the rows could see a bucket
 * before a settlement and the record after it, and count that turn neither as reserved nor as
 * used. One item read with ConsistentRead and written on its version cannot be torn that way.
 * The bucket and month rows remain the ledger operators and reports read.
 */
import { DAY_MS, inWindow, monthId, nextMonthStart } from "./windows.js";

export const ADMISSION_PERIOD = "admission";

/** One turn's hold on the budget until it settles or `expiresAt` passes. */
export interface Reservation {
  inputTokens: number;
  outputTokens: number;
  /** Epoch ms. */
  admittedAt: number;
  /** Epoch ms; after it the reservation no longer counts (the worker is gone). */
  expiresAt: number;
}

export interface AdmissionRecord {
  /** 0 when the user has no record yet. */
  version: number;
  /** Settled tokens per ten-minute bucket id (only buckets still in the window matter). */
  dailyInput: Record<string, number>;
  dailyOutput: Record<string, number>;
  /** Settled tokens per month id. */
  monthlyInput: Record<string, number>;
  monthlyOutput: Record<string, number>;
  /** By request id. */
  reservations: Record<string, Reservation>;
  /** Epoch ms of admissions within the last minute, for requestsPerMinute. */
  recentStarts: number[];
}

/** Attribute names as stored; short, because the record is rewritten on every admission. */
export const ATTR = {
  version: "version",
  dailyInput: "daily_in",
  dailyOutput: "daily_out",
  monthlyInput: "monthly_in",
  monthlyOutput: "monthly_out",
  reservations: "reservations",
  recentStarts: "starts",
} as const;

export const emptyRecord = (): AdmissionRecord => ({
  version: 0,
  dailyInput: {},
  dailyOutput: {},
  monthlyInput: {},
  monthlyOutput: {},
  reservations: {},
  recentStarts: [],
});

const numbers = (value: unknown): Record<string, number> =>
  value && typeof value === "object" ? Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === "number")) : {};

/** The record from a DynamoDB item (document form); anything missing reads as empty. */
export function recordFromItem(item: Record<string, unknown> | undefined): AdmissionRecord {
  if (!item) return emptyRecord();
  const reservations: Record<string, Reservation> = {};
  const stored = item[ATTR.reservations];
  if (stored && typeof stored === "object") {
    for (const [id, r] of Object.entries(stored as Record<string, Record<string, unknown>>)) {
      reservations[id] = {
        inputTokens: Number(r.in ?? 0),
        outputTokens: Number(r.out ?? 0),
        admittedAt: Number(r.at ?? 0),
        expiresAt: Number(r.exp ?? 0),
      };
    }
  }
  return {
    version: Number(item[ATTR.version] ?? 0),
    dailyInput: numbers(item[ATTR.dailyInput]),
    dailyOutput: numbers(item[ATTR.dailyOutput]),
    monthlyInput: numbers(item[ATTR.monthlyInput]),
    monthlyOutput: numbers(item[ATTR.monthlyOutput]),
    reservations,
    recentStarts: Array.isArray(item[ATTR.recentStarts]) ? (item[ATTR.recentStarts] as unknown[]).map(Number) : [],
  };
}

/**
 * The item to write: only what still matters at `now` (buckets in the window, this month,
 * live reservations, starts of the last minute), so the record stays a few kilobytes.
 */
export function itemFromRecord(record: AdmissionRecord, now: number): Record<string, unknown> {
  const month = monthId(now);
  const inWindowOnly = (totals: Record<string, number>) => Object.fromEntries(Object.entries(totals).filter(([id]) => inWindow(id, now)));
  const thisMonthOnly = (totals: Record<string, number>) => (totals[month] !== undefined ? { [month]: totals[month] } : {});
  return {
    [ATTR.version]: record.version,
    [ATTR.dailyInput]: inWindowOnly(record.dailyInput),
    [ATTR.dailyOutput]: inWindowOnly(record.dailyOutput),
    [ATTR.monthlyInput]: thisMonthOnly(record.monthlyInput),
    [ATTR.monthlyOutput]: thisMonthOnly(record.monthlyOutput),
    [ATTR.reservations]: Object.fromEntries(
      Object.entries(record.reservations)
        .filter(([, r]) => r.expiresAt > now)
        .map(([id, r]) => [id, { in: r.inputTokens, out: r.outputTokens, at: r.admittedAt, exp: r.expiresAt }]),
    ),
    [ATTR.recentStarts]: record.recentStarts.filter((t) => t > now - 60_000),
    ttl: admissionRecordExpiry(now),
  };
}

/**
 * TTL (epoch seconds) of the admission record written at `now`: what it holds matters until
 * the month ends and the window has passed, then it is garbage. A day's margin on top.
 */
export function admissionRecordExpiry(now: number): number {
  return Math.ceil((Math.max(now + DAY_MS, nextMonthStart(now)) + DAY_MS) / 1000);
}

/** Reservations still counting at `now` (a crashed worker's stops counting at its expiry). */
export function liveReservations(record: AdmissionRecord, now: number, except?: string): [string, Reservation][] {
  return Object.entries(record.reservations).filter(([id, r]) => r.expiresAt > now && id !== except);
}
