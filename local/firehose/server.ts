/**
 * A Firehose-compatible endpoint for local mode: the worker's unmodified
 * @aws-sdk/client-firehose talks to it (JSON 1.1 protocol, `X-Amz-Target:
 * Firehose_20150804.PutRecord` / `PutRecordBatch`, base64 `Data`), and it writes what it
 * receives as Parquet in the layout the deployed stream writes to S3:
 * `<dir>/turns/year=YYYY/month=MM/day=DD/<stream>-<time>-<id>.parquet`, partitioned by arrival
 * time. Records that are not JSON objects of the table's shape go to `<dir>/errors/`, as
 * Firehose's format-conversion failures do.
 *
 * Like DynamoDB Local it does not verify signatures; it listens on 127.0.0.1 only.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { partitionPath, RECORDS_PREFIX } from "../../functions/lib/analytics/columns.js";
import { ParquetWriter } from "./parquet.js";

/** Firehose's limits (PutRecordBatch): 500 records, 1,000 KiB each, 4 MiB in all. */
const MAX_BATCH_RECORDS = 500;
const MAX_RECORD_BYTES = 1000 * 1024;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Base64 and JSON around 4 MiB of data. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const TARGET_PREFIX = "Firehose_20150804.";

export interface LocalFirehoseOptions {
  /** The one delivery stream it accepts (the worker's ANALYTICS_DELIVERY_STREAM). */
  streamName: string;
  /** Where the `turns/` and `errors/` folders go. */
  dir: string;
  /** 0 or absent picks a free port. */
  port?: number;
  /** Arrival time, for partitions and file names. @default () => new Date() */
  clock?: () => Date;
}

export interface LocalFirehose {
  /** `http://127.0.0.1:<port>`: the Firehose client's `endpoint`. */
  endpoint: string;
  streamName: string;
  /** The directory holding `turns/` (what `npm run analytics` reads). */
  dir: string;
  /** Parquet files written so far, absolute paths. */
  files: string[];
  close(): Promise<void>;
}

class FirehoseError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type RecordInput = { Data?: unknown };

export async function startLocalFirehose(options: LocalFirehoseOptions): Promise<LocalFirehose> {
  const writer = await ParquetWriter.open();
  const clock = options.clock ?? (() => new Date());
  const files: string[] = [];

  /**
   * Decodes and writes. As in Firehose, a record that fails conversion still counts as put:
   * it lands under the error prefix instead.
   */
  async function deliver(records: RecordInput[]): Promise<void> {
    const arrival = clock();
    const decoded = records.map((r) => decodeRecord(r.Data));
    const good = decoded.flatMap((d, index) => (typeof d === "string" ? [] : [{ index, record: d }]));
    const failures = decoded.flatMap((d, index) => (typeof d === "string" ? [{ index, reason: d }] : []));
    if (good.length) {
      const folder = join(options.dir, RECORDS_PREFIX, partitionPath(arrival));
      await mkdir(folder, { recursive: true });
      const file = join(folder, `${options.streamName}-${arrival.toISOString().replace(/[:.]/g, "-")}-${randomUUID()}.parquet`);
      const rejected = await writer.write(good.map((g) => g.record), file);
      for (const r of rejected) failures.push({ index: good[r.index]!.index, reason: r.reason });
      if (rejected.length < good.length) files.push(file);
    }
    if (failures.length) await writeErrors(options.dir, arrival, failures.map((f) => ({ ...f, data: records[f.index]!.Data })));
  }

  async function handle(target: string, body: Record<string, unknown>): Promise<unknown> {
    if (body.DeliveryStreamName !== options.streamName) {
      throw new FirehoseError("ResourceNotFoundException", `Firehose ${String(body.DeliveryStreamName)} under account 000000000000 not found.`);
    }
    if (target === "PutRecord") {
      const record = body.Record as RecordInput | undefined;
      checkRecord(record);
      await deliver([record!]);
      return { RecordId: randomUUID(), Encrypted: false };
    }
    if (target === "PutRecordBatch") {
      const records = body.Records;
      if (!Array.isArray(records) || records.length < 1 || records.length > MAX_BATCH_RECORDS) {
        throw new FirehoseError("InvalidArgumentException", `Records must hold 1 to ${MAX_BATCH_RECORDS} records.`);
      }
      records.forEach(checkRecord);
      const total = records.reduce((sum: number, r: RecordInput) => sum + Buffer.byteLength(String(r.Data), "base64"), 0);
      if (total > MAX_BATCH_BYTES) throw new FirehoseError("InvalidArgumentException", "Records exceed 4 MiB in all.");
      await deliver(records);
      return { FailedPutCount: 0, Encrypted: false, RequestResponses: records.map(() => ({ RecordId: randomUUID() })) };
    }
    throw new FirehoseError("UnknownOperationException", `This local endpoint serves PutRecord and PutRecordBatch, not ${target}.`);
  }

  const server = createServer((req, res) => {
    void serve(req, res, handle);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    streamName: options.streamName,
    dir: options.dir,
    files,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => writer.close())),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handle: (target: string, body: Record<string, unknown>) => Promise<unknown>): Promise<void> {
  try {
    const target = String(req.headers["x-amz-target"] ?? "");
    if (req.method !== "POST" || !target.startsWith(TARGET_PREFIX)) {
      throw new FirehoseError("UnknownOperationException", "Expected a POST with X-Amz-Target: Firehose_20150804.<operation>.");
    }
    const body = await readBody(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new FirehoseError("SerializationException", "The request body is not JSON.");
    }
    if (typeof parsed !== "object" || parsed === null) throw new FirehoseError("SerializationException", "The request body is not a JSON object.");
    reply(res, 200, await handle(target.slice(TARGET_PREFIX.length), parsed as Record<string, unknown>));
  } catch (err) {
    const failure = err instanceof FirehoseError ? err : new FirehoseError("ServiceUnavailableException", "The local Firehose could not write the records.", 500);
    reply(res, failure.status, { __type: failure.type, message: failure.message });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new FirehoseError("InvalidArgumentException", "The request is larger than Firehose accepts.", 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function checkRecord(record: unknown): void {
  const data = (record as RecordInput | undefined)?.Data;
  if (typeof data !== "string" || data.length === 0) throw new FirehoseError("InvalidArgumentException", "Each record needs base64 Data.");
  if (Buffer.byteLength(data, "base64") > MAX_RECORD_BYTES) throw new FirehoseError("InvalidArgumentException", "A record exceeds 1,000 KiB.");
}

/** The record as a JSON object, or why not. */
function decodeRecord(data: unknown): object | string {
  const text = Buffer.from(String(data), "base64").toString("utf8");
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : "the record is not a JSON object";
  } catch {
    return "the record is not JSON";
  }
}

/** What Firehose writes under its error output prefix for a conversion failure, one line each. */
async function writeErrors(dir: string, arrival: Date, failures: { reason: string; data: unknown }[]): Promise<void> {
  const folder = join(dir, "errors", "format-conversion-failed", partitionPath(arrival));
  await mkdir(folder, { recursive: true });
  const lines = failures.map((f) =>
    JSON.stringify({
      arrivalTimestamp: arrival.getTime(),
      lastErrorCode: "DataFormatConversion.MalformedData",
      lastErrorMessage: f.reason,
      rawData: String(f.data),
    }),
  );
  await appendFile(join(folder, `errors-${arrival.toISOString().slice(0, 10)}.jsonl`), `${lines.join("\n")}\n`);
}
