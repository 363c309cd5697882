/**
 * A Firehose-compatible endpoint for local mode: the worker's unmodified
 * @aws-sdk/client-firehose talks to it (JSON 1.1 protocol, `X-Amz-Target:
 * Firehose_20150804.PutRecord` / `PutRecordBatch`, base64 `Data`). Like a delivery stream it
 * acknowledges records once they are validated and buffered, and writes them as Parquet in
 * batches (buffer.ts: a size or count threshold, an interval, `flush()`, `close()`) in the
 * layout the deployed stream writes to S3:
 * `<dir>/turns/year=YYYY/month=MM/day=DD/<stream>-<time>-<id>.parquet`, partitioned by arrival
 * time. Records that are not JSON objects of the table's shape go to `<dir>/errors/`, as
 * Firehose's format-conversion failures do. A full buffer refuses records with
 * ServiceUnavailableException, as Firehose throttles.
 *
 * Like DynamoDB Local it does not verify signatures; it listens on 127.0.0.1 only.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type BufferingHints, RecordBuffer, type Sized } from "./buffer.js";
import { type Arrival, writeBatch } from "./delivery.js";
import { ParquetWriter } from "./parquet.js";

/** Firehose's limits (PutRecordBatch): 500 records, 1,000 KiB each, 4 MiB in all. */
const MAX_BATCH_RECORDS = 500;
const MAX_RECORD_BYTES = 1000 * 1024;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Base64 and JSON around 4 MiB of data. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const TARGET_PREFIX = "Firehose_20150804.";
/** Firehose's answer when a stream is over its limits: the SDK retries it as a server error. */
const THROTTLED = { type: "ServiceUnavailableException", message: "Slow down: the local Firehose's buffer is full; retry shortly." };

export interface LocalFirehoseOptions {
  /** The one delivery stream it accepts (the worker's ANALYTICS_DELIVERY_STREAM). */
  streamName: string;
  /** Where the `turns/` and `errors/` folders go. */
  dir: string;
  /** 0 or absent picks a free port. */
  port?: number;
  /** Arrival time, for partitions and file names. @default () => new Date() */
  clock?: () => Date;
  /** When buffered records are written, and how many may wait. @default DEFAULT_BUFFERING (1 s, 1,000 records or 4 MiB; at most 20,000 records or 64 MiB held) */
  buffering?: BufferingHints;
  /** Told when a write fails (the records stay buffered and are retried). @default a line on stderr */
  onWriteError?: (error: unknown, records: number) => void;
}

/** Counts named after the delivery stream's CloudWatch metrics. */
export interface LocalFirehoseMetrics {
  /** PutRecord and PutRecordBatch calls that were acknowledged. */
  incomingPutRequests: number;
  /** Records accepted (acknowledged with a RecordId). */
  incomingRecords: number;
  /** Records refused because the buffer was full. */
  throttledRecords: number;
  /** Records accepted and not yet written. */
  bufferedRecords: number;
}

export interface LocalFirehose {
  /** `http://127.0.0.1:<port>`: the Firehose client's `endpoint`. */
  endpoint: string;
  streamName: string;
  /** The directory holding `turns/` (what `npm run analytics` reads). */
  dir: string;
  /** Parquet files written so far, absolute paths. */
  files: string[];
  metrics(): LocalFirehoseMetrics;
  /** Writes every record accepted so far; rejects when a write failed (those records stay buffered). */
  flush(): Promise<void>;
  /** Stops taking requests, writes what is buffered, then closes DuckDB. */
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

const reportWriteError = (error: unknown, records: number) =>
  console.error(`local Firehose: ${records} records not written yet (${error instanceof Error ? error.message.split("\n")[0] : "unknown error"}); retrying`);

export async function startLocalFirehose(options: LocalFirehoseOptions): Promise<LocalFirehose> {
  const writer = await ParquetWriter.open();
  const clock = options.clock ?? (() => new Date());
  const files: string[] = [];
  const counts = { incomingPutRequests: 0, incomingRecords: 0, throttledRecords: 0 };
  const buffer = new RecordBuffer<Arrival>(
    (batch) => writeBatch({ writer, dir: options.dir, streamName: options.streamName, onFile: (file) => files.push(file) }, batch),
    options.buffering,
    options.onWriteError ?? reportWriteError,
  );

  /** Buffers what fits; returns how many of the leading records were accepted. */
  function accept(records: RecordInput[]): number {
    const at = clock();
    const entries: Sized<Arrival>[] = records.map((r) => ({ item: { data: String(r.Data), at }, bytes: Buffer.byteLength(String(r.Data), "base64") }));
    const taken = buffer.offer(entries);
    counts.incomingRecords += taken;
    counts.throttledRecords += records.length - taken;
    return taken;
  }

  async function handle(target: string, body: Record<string, unknown>): Promise<unknown> {
    if (body.DeliveryStreamName !== options.streamName) {
      throw new FirehoseError("ResourceNotFoundException", `Firehose ${String(body.DeliveryStreamName)} under account 000000000000 not found.`);
    }
    if (target === "PutRecord") {
      const record = body.Record as RecordInput | undefined;
      checkRecord(record);
      if (accept([record!]) === 0) throw new FirehoseError(THROTTLED.type, THROTTLED.message, 500);
      counts.incomingPutRequests++;
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
      // As Firehose does, a throttled batch fails per record: the caller retries the failed ones.
      const taken = accept(records);
      counts.incomingPutRequests++;
      return {
        FailedPutCount: records.length - taken,
        Encrypted: false,
        RequestResponses: records.map((_, i) => (i < taken ? { RecordId: randomUUID() } : { ErrorCode: THROTTLED.type, ErrorMessage: THROTTLED.message })),
      };
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
    metrics: () => ({ ...counts, bufferedRecords: buffer.held.records }),
    flush: () => buffer.flush(),
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        });
        try {
          await buffer.flush();
        } finally {
          buffer.stop();
          writer.close();
        }
      })()),
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
    const failure = err instanceof FirehoseError ? err : new FirehoseError("ServiceUnavailableException", "The local Firehose could not take the records.", 500);
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
