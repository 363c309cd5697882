/**
 * The metering windows (DESIGN 5), all in UTC: a rolling 24 h made of 144 ten-minute buckets
 * (`10min:YYYY-MM-DD:HH:M0`) and the calendar month (`monthly:YYYY-MM`). Pure functions of a
 * time in epoch milliseconds, so tests and the bench move the clock freely.
 */

export const BUCKET_MS = 10 * 60 * 1000;
export const DAY_MS = 24 * 60 * 60 * 1000;
/** Buckets in the rolling 24 h window, the current one included. */
export const WINDOW_BUCKETS = DAY_MS / BUCKET_MS;

const pad = (n: number) => String(n).padStart(2, "0");

/** Start (epoch ms) of the ten-minute bucket holding `at`. */
export function bucketStart(at: number): number {
  return Math.floor(at / BUCKET_MS) * BUCKET_MS;
}

/** `10min:YYYY-MM-DD:HH:M0` of the bucket holding `at`. Fixed width, so ids sort by time. */
export function bucketId(at: number): string {
  const d = new Date(bucketStart(at));
  return `10min:${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

const BUCKET_ID = /^10min:(\d{4})-(\d{2})-(\d{2}):(\d{2}):(\d)0$/;

/** Start (epoch ms) of a bucket named by its id; NaN for anything that is not a bucket id. */
export function bucketIdStart(id: string): number {
  const m = BUCKET_ID.exec(id);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]) * 10);
}

/** `monthly:YYYY-MM` of the calendar month holding `at`. */
export function monthId(at: number): string {
  const d = new Date(at);
  return `monthly:${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
}

/** 00:00 UTC on the first day of the month after the one holding `at`. */
export function nextMonthStart(at: number): number {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * Start of the oldest bucket still in the rolling window at `at`: the window is the current
 * bucket and the 143 before it, so a bucket counts for 24 h from its own start.
 */
export function windowStart(at: number): number {
  return bucketStart(at) - (WINDOW_BUCKETS - 1) * BUCKET_MS;
}

/** Whether the bucket `id` is inside the rolling window at `at`. */
export function inWindow(id: string, at: number): boolean {
  const start = bucketIdStart(id);
  return start >= windowStart(at) && start <= at;
}

/** When a bucket leaves the rolling window: 24 h after its start. */
export function bucketLeavesWindowAt(id: string): number {
  return bucketIdStart(id) + DAY_MS;
}

/** Whole seconds from `now` until `at`, at least 1 (a retry hint of 0 invites a busy loop). */
export function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}
