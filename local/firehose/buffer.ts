/**
 * The local Firehose's buffer: records are acknowledged when they enter it and written in
 * batches, as a delivery stream does with its buffering hints. A batch leaves when the buffer
 * reaches a record or byte threshold, an interval after its first record arrived, or on
 * `flush()`. Writes run one at a time; what a write could not store goes back to the front and
 * is tried again an interval later. The buffer is bounded: past its limits `offer` takes
 * nothing more, and the caller refuses the records as Firehose throttles.
 */

export interface BufferingHints {
  /** Write what is buffered this long after its first record arrived. @default 1000 */
  intervalMs?: number;
  /** Write at once when this many records are buffered. @default 1000 */
  records?: number;
  /** Write at once when this many bytes of data are buffered. @default 4 MiB */
  bytes?: number;
  /** Refuse records while this many are accepted and not yet written. @default 20000 */
  maxRecords?: number;
  /** Refuse records while this many bytes are accepted and not yet written. @default 64 MiB */
  maxBytes?: number;
}

export const DEFAULT_BUFFERING: Required<BufferingHints> = {
  intervalMs: 1000,
  records: 1000,
  bytes: 4 * 1024 * 1024,
  maxRecords: 20_000,
  maxBytes: 64 * 1024 * 1024,
};

export interface Sized<T> {
  item: T;
  /** Its data's size, for the byte threshold and limit. */
  bytes: number;
}

/** What a write stored and what it could not (retried), with why not. */
export interface WriteOutcome<T> {
  unwritten: Sized<T>[];
  error?: unknown;
}

export class RecordBuffer<T> {
  private readonly hints: Required<BufferingHints>;
  private pending: Sized<T>[] = [];
  private pendingBytes = 0;
  /** Accepted and not yet written: buffered plus being written (both held in memory). */
  private heldRecords = 0;
  private heldBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private failures = 0;
  private lastError: unknown;

  constructor(
    private readonly write: (batch: Sized<T>[]) => Promise<WriteOutcome<T>>,
    hints: BufferingHints = {},
    /** Told of each failed write (its records stay buffered). */
    private readonly onWriteError: (error: unknown, records: number) => void = () => undefined,
  ) {
    this.hints = { ...DEFAULT_BUFFERING, ...hints };
  }

  /** Accepted and not yet written. */
  get held(): { records: number; bytes: number } {
    return { records: this.heldRecords, bytes: this.heldBytes };
  }

  /** Takes the leading entries that fit within the limits; returns how many it took. */
  offer(entries: readonly Sized<T>[]): number {
    let taken = 0;
    for (const entry of entries) {
      if (this.heldRecords + 1 > this.hints.maxRecords || this.heldBytes + entry.bytes > this.hints.maxBytes) break;
      this.pending.push(entry);
      this.pendingBytes += entry.bytes;
      this.heldRecords += 1;
      this.heldBytes += entry.bytes;
      taken++;
    }
    if (this.pending.length >= this.hints.records || this.pendingBytes >= this.hints.bytes) this.writeInBackground();
    else if (taken > 0) this.scheduleWrite();
    return taken;
  }

  /**
   * Writes everything accepted so far; resolves once it is stored, rejects with the reason
   * when a write failed meanwhile (its records stay buffered for the next attempt).
   */
  async flush(): Promise<void> {
    const failuresBefore = this.failures;
    await this.writes;
    const batch = this.take();
    await (batch.length ? this.enqueue(batch) : this.writes);
    if (this.failures !== failuresBefore) throw this.lastError;
  }

  /** Stops the interval's timer; what is buffered stays (call `flush()` first). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private writeInBackground(): void {
    const batch = this.take();
    // A failure is reported by onWriteError and retried from the buffer.
    if (batch.length) this.enqueue(batch).catch(() => undefined);
  }

  private scheduleWrite(): void {
    if (this.timer || this.pending.length === 0) return;
    // unref: a buffered record must not keep a finished process alive; close() flushes.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeInBackground();
    }, this.hints.intervalMs).unref();
  }

  private take(): Sized<T>[] {
    this.stop();
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return batch;
  }

  private enqueue(batch: Sized<T>[]): Promise<void> {
    const run = this.writes.then(() => this.writeBatch(batch));
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async writeBatch(batch: Sized<T>[]): Promise<void> {
    let outcome: WriteOutcome<T>;
    try {
      outcome = await this.write(batch);
    } catch (error) {
      outcome = { unwritten: batch, error };
    }
    const written = batch.length - outcome.unwritten.length;
    this.heldRecords -= written;
    this.heldBytes -= batch.reduce((sum, e) => sum + e.bytes, 0) - outcome.unwritten.reduce((sum, e) => sum + e.bytes, 0);
    if (outcome.unwritten.length === 0 && outcome.error === undefined) return;
    // Back to the front, in arrival order, for the next interval.
    this.pending = [...outcome.unwritten, ...this.pending];
    this.pendingBytes += outcome.unwritten.reduce((sum, e) => sum + e.bytes, 0);
    this.failures++;
    this.lastError = outcome.error ?? new Error("records were not written");
    this.onWriteError(this.lastError, outcome.unwritten.length);
    this.scheduleWrite();
    throw this.lastError;
  }
}
