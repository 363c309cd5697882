/**
 * Writing one buffered batch where the deployed stream writes it: per arrival day, one Parquet
 * file under `<dir>/turns/year=YYYY/month=MM/day=DD/`, and the records that do not convert
 * (not JSON objects, or not of the table's shape) as lines under
 * `<dir>/errors/format-conversion-failed/`, as Firehose's format-conversion failures go.
 */
import { randomUUID } from "node:crypto";
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { partitionPath, RECORDS_PREFIX } from "../../functions/lib/analytics/columns.js";
import type { Sized, WriteOutcome } from "./buffer.js";
import type { ParquetWriter } from "./parquet.js";

/** A record as it arrived: its base64 `Data`, and when (its partition). */
export interface Arrival {
  data: string;
  at: Date;
}

export interface BatchTarget {
  writer: ParquetWriter;
  dir: string;
  streamName: string;
  /** Called with each Parquet file written (absolute path). */
  onFile: (file: string) => void;
}

class ErrorLinesNotWritten extends Error {
  constructor(
    readonly entries: Sized<Arrival>[],
    override readonly cause: unknown,
  ) {
    super("conversion failures not written");
  }
}

/** Writes each arrival day's records; what a day could not store stays unwritten (and is retried). */
export async function writeBatch(target: BatchTarget, batch: Sized<Arrival>[]): Promise<WriteOutcome<Arrival>> {
  const days = new Map<string, Sized<Arrival>[]>();
  for (const entry of batch) {
    const day = partitionPath(entry.item.at);
    days.set(day, [...(days.get(day) ?? []), entry]);
  }
  const outcome: WriteOutcome<Arrival> = { unwritten: [] };
  for (const [day, entries] of days) {
    try {
      await writeDay(target, day, entries);
    } catch (error) {
      // Rows already in Parquet must not be written twice: only the error lines are retried then.
      outcome.unwritten.push(...(error instanceof ErrorLinesNotWritten ? error.entries : entries));
      outcome.error ??= error instanceof ErrorLinesNotWritten ? error.cause : error;
    }
  }
  return outcome;
}

async function writeDay(target: BatchTarget, day: string, entries: Sized<Arrival>[]): Promise<void> {
  const arrivals = entries.map((e) => e.item);
  const decoded = arrivals.map((a) => decodeRecord(a.data));
  const good = decoded.flatMap((d, index) => (typeof d === "string" ? [] : [{ index, record: d }]));
  const failures = decoded.flatMap((d, index) => (typeof d === "string" ? [{ index, reason: d }] : []));
  if (good.length) {
    const folder = join(target.dir, RECORDS_PREFIX, day);
    await mkdir(folder, { recursive: true });
    const first = arrivals[0]!.at;
    const file = join(folder, `${target.streamName}-${first.toISOString().replace(/[:.]/g, "-")}-${randomUUID()}.parquet`);
    const rejected = await target.writer.write(good.map((g) => g.record), file);
    for (const r of rejected) failures.push({ index: good[r.index]!.index, reason: r.reason });
    if (rejected.length < good.length) target.onFile(file);
  }
  if (failures.length) {
    failures.sort((a, b) => a.index - b.index);
    try {
      await writeErrors(target.dir, day, failures.map((f) => ({ reason: f.reason, arrival: arrivals[f.index]! })));
    } catch (error) {
      if (good.length === 0) throw error;
      throw new ErrorLinesNotWritten(failures.map((f) => entries[f.index]!), error);
    }
  }
}

/** The record as a JSON object, or why not. */
function decodeRecord(data: string): object | string {
  const text = Buffer.from(data, "base64").toString("utf8");
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : "the record is not a JSON object";
  } catch {
    return "the record is not JSON";
  }
}

/** What Firehose writes under its error output prefix for a conversion failure, one line each. */
async function writeErrors(dir: string, day: string, failures: { reason: string; arrival: Arrival }[]): Promise<void> {
  const folder = join(dir, "errors", "format-conversion-failed", day);
  await mkdir(folder, { recursive: true });
  const lines = failures.map((f) =>
    JSON.stringify({
      arrivalTimestamp: f.arrival.at.getTime(),
      lastErrorCode: "DataFormatConversion.MalformedData",
      lastErrorMessage: f.reason,
      rawData: f.arrival.data,
    }),
  );
  await appendFile(join(folder, `errors-${failures[0]!.arrival.at.toISOString().slice(0, 10)}.jsonl`), `${lines.join("\n")}\n`);
}
