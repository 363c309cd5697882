/**
 * The local Firehose, driven by the real @aws-sdk/client-firehose: the operations the worker
 * uses, Firehose's errors and limits, its buffering (acknowledged at once, written in batches
 * by threshold, interval, flush and close; throttled when full), and the Parquet layout the
 * Glue table reads in AWS.
 */
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand, ResourceNotFoundException } from "@aws-sdk/client-firehose";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TurnRecord } from "../../functions/lib/analytics/columns.js";
import { encodeRecord } from "../../functions/lib/analytics/firehose.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { type LocalFirehose, type LocalFirehoseOptions, startLocalFirehose } from "../../local/firehose/index.js";
import { runLocalSql } from "../../tools/analytics/local-queries.js";
import { turnRecord } from "../support/turn-record.js";

const ARRIVAL = new Date("2026-03-07T23:59:58.000Z");

let firehose: LocalFirehose;
let client: FirehoseClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "firehose-"));
  // No interval in this suite's time: only flush() writes, so what each test sees is its own doing.
  firehose = await startLocalFirehose({ streamName: "turns", dir, clock: () => ARRIVAL, buffering: { intervalMs: 600_000 } });
  client = new FirehoseClient({ endpoint: firehose.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  client?.destroy();
  await firehose?.close();
  await rm(dir, { recursive: true, force: true });
});

const turn = turnRecord;

describe("local Firehose", () => {
  it("acknowledges PutRecord and PutRecordBatch from the AWS SDK before writing, then writes them together as Parquet under year=/month=/day= of the arrival time", async () => {
    const one = turn();
    const put = await client.send(new PutRecordCommand({ DeliveryStreamName: "turns", Record: { Data: encodeRecord(one) } }));
    expect(put.RecordId).toEqual(expect.any(String));
    const batch = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: "turns", Records: [turn({ user_id: "user-2", cached: true }), turn({ error_code: "model_error", input_tokens: null })].map((r) => ({ Data: encodeRecord(r) })) }),
    );
    expect(batch).toMatchObject({ FailedPutCount: 0, RequestResponses: [{ RecordId: expect.any(String) }, { RecordId: expect.any(String) }] });
    // Acknowledged and buffered, not yet written.
    expect(firehose.files).toEqual([]);
    expect(firehose.metrics()).toEqual({ incomingPutRequests: 2, incomingRecords: 3, throttledRecords: 0, bufferedRecords: 3 });

    await firehose.flush();
    expect(firehose.metrics().bufferedRecords).toBe(0);
    // Both calls' records in one file, named after the first arrival.
    expect(firehose.files.map((f) => relative(dir, f))).toEqual([
      expect.stringMatching(/^turns\/year=2026\/month=03\/day=07\/turns-2026-03-07T23-59-58-000Z-[0-9a-f-]+\.parquet$/),
    ]);
    const { columns, rows } = await runLocalSql(dir, "SELECT request_id, turn_at, input_tokens, cached, error_code, estimated_cost_usd, year, month, day FROM turns ORDER BY user_id, error_code NULLS FIRST");
    expect(columns).toEqual(["request_id", "turn_at", "input_tokens", "cached", "error_code", "estimated_cost_usd", "year", "month", "day"]);
    expect(rows[0]).toEqual([one.request_id, "2026-03-07 23:59:57.5", "10", false, null, 0.0000054, "2026", "03", "07"]);
    expect(rows.map((r) => [r[2], r[3], r[4]])).toEqual([
      ["10", false, null],
      [null, false, "model_error"],
      ["10", true, null],
    ]);
    // Keys the table lacks are ignored and missing ones are null, as the Glue SerDe does.
    const partial = Buffer.from(JSON.stringify({ request_id: "partial", user_id: "user-4", extra: 1, turn_at: ARRIVAL.getTime() }));
    await client.send(new PutRecordCommand({ DeliveryStreamName: "turns", Record: { Data: partial } }));
    await firehose.flush();
    const { rows: partialRows } = await runLocalSql(dir, "SELECT request_id, model_id, total_ms FROM turns WHERE user_id = 'user-4'");
    expect(partialRows).toEqual([["partial", null, null]]);
  });

  it("answers an unknown stream with ResourceNotFoundException, as Firehose does", async () => {
    const put = client.send(new PutRecordCommand({ DeliveryStreamName: "other", Record: { Data: encodeRecord(turn()) } }));
    await expect(put).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("refuses batches beyond Firehose's 500 records", async () => {
    const records = Array.from({ length: 501 }, () => ({ Data: encodeRecord(turn()) }));
    await expect(client.send(new PutRecordBatchCommand({ DeliveryStreamName: "turns", Records: records }))).rejects.toMatchObject({ name: "InvalidArgumentException" });
  });

  it("puts records that do not convert under errors/, keeping the batch's good ones", async () => {
    const good = turn({ user_id: "user-3" });
    const notJson = Buffer.from("not json at all");
    const wrongType = Buffer.from(JSON.stringify({ ...turn(), input_tokens: "many" }));
    const result = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: "turns", Records: [{ Data: encodeRecord(good) }, { Data: notJson }, { Data: wrongType }] }),
    );
    expect(result.FailedPutCount).toBe(0);
    await firehose.flush();
    const { rows } = await runLocalSql(dir, "SELECT request_id FROM turns WHERE user_id = 'user-3'");
    expect(rows).toEqual([[good.request_id]]);
    const errorsDir = join(dir, "errors/format-conversion-failed/year=2026/month=03/day=07");
    const [file] = await readdir(errorsDir);
    const lines = (await readFile(join(errorsDir, file!), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => Buffer.from(l.rawData, "base64").toString())).toEqual(["not json at all", wrongType.toString()]);
    expect(lines.every((l) => l.lastErrorCode === "DataFormatConversion.MalformedData")).toBe(true);
  });

  it("acknowledges 200 concurrent PutRecord calls through the SDK and writes every record after flush", async () => {
    const records = Array.from({ length: 200 }, (_, i) => turn({ user_id: "user-concurrent", output_tokens: i }));
    const puts = await Promise.all(records.map((r) => client.send(new PutRecordCommand({ DeliveryStreamName: "turns", Record: { Data: encodeRecord(r) } }))));
    expect(new Set(puts.map((p) => p.RecordId)).size).toBe(200);
    await firehose.flush();
    const { rows } = await runLocalSql(dir, "SELECT request_id, output_tokens FROM turns WHERE user_id = 'user-concurrent' ORDER BY output_tokens");
    expect(rows).toEqual(records.map((r) => [r.request_id, String(r.output_tokens)]));
  });
});

describe("local Firehose buffering", () => {
  const started: { firehose: LocalFirehose; client: FirehoseClient; dir: string }[] = [];
  afterAll(async () => {
    for (const s of started) {
      s.client.destroy();
      await s.firehose.close().catch(() => undefined);
      await rm(s.dir, { recursive: true, force: true });
    }
  });

  async function start(options: Omit<LocalFirehoseOptions, "streamName" | "dir">) {
    const ownDir = await mkdtemp(join(tmpdir(), "firehose-buffer-"));
    const stream = await startLocalFirehose({ streamName: "turns", dir: ownDir, ...options });
    // One attempt: a throttle must reach the test, not the SDK's retry.
    const ownClient = new FirehoseClient({ endpoint: stream.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    started.push({ firehose: stream, client: ownClient, dir: ownDir });
    return { firehose: stream, client: ownClient, dir: ownDir };
  }
  const put = (c: FirehoseClient, record: TurnRecord) => c.send(new PutRecordCommand({ DeliveryStreamName: "turns", Record: { Data: encodeRecord(record) } }));
  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(condition()).toBe(true);
  }

  it("writes buffered records an interval after the first arrived, without a flush", async () => {
    const s = await start({ buffering: { intervalMs: 200 } });
    const record = turn();
    await put(s.client, record);
    await until(() => s.firehose.files.length === 1);
    expect((await runLocalSql(s.dir, "SELECT request_id FROM turns")).rows).toEqual([[record.request_id]]);
  });

  it("writes at once when the buffer reaches its record threshold", async () => {
    const s = await start({ buffering: { intervalMs: 600_000, records: 3 } });
    await put(s.client, turn());
    await put(s.client, turn());
    expect(s.firehose.files).toEqual([]);
    await put(s.client, turn());
    await until(() => s.firehose.files.length === 1);
    expect((await runLocalSql(s.dir, "SELECT count(*) FROM turns")).rows).toEqual([["3"]]);
  });

  it("refuses records with ServiceUnavailableException while its buffer is full, per record in a batch, and takes them again once written", async () => {
    const s = await start({ buffering: { intervalMs: 600_000, maxRecords: 2 } });
    const batch = await s.client.send(new PutRecordBatchCommand({ DeliveryStreamName: "turns", Records: [turn(), turn(), turn()].map((r) => ({ Data: encodeRecord(r) })) }));
    expect(batch).toMatchObject({
      FailedPutCount: 1,
      RequestResponses: [{ RecordId: expect.any(String) }, { RecordId: expect.any(String) }, { ErrorCode: "ServiceUnavailableException", ErrorMessage: expect.stringContaining("Slow down") }],
    });
    await expect(put(s.client, turn())).rejects.toMatchObject({ name: "ServiceUnavailableException", message: expect.stringContaining("buffer is full") });
    expect(s.firehose.metrics()).toMatchObject({ incomingRecords: 2, throttledRecords: 2, bufferedRecords: 2 });
    await s.firehose.flush();
    const again = turn();
    expect((await put(s.client, again)).RecordId).toEqual(expect.any(String));
    await s.firehose.flush();
    expect((await runLocalSql(s.dir, "SELECT count(*) FROM turns")).rows).toEqual([["3"]]);
  });

  it("writes what is buffered when closed", async () => {
    const s = await start({ buffering: { intervalMs: 600_000 } });
    const record = turn();
    await put(s.client, record);
    expect(s.firehose.files).toEqual([]);
    await s.firehose.close();
    expect(s.firehose.files).toHaveLength(1);
    expect((await runLocalSql(s.dir, "SELECT request_id FROM turns")).rows).toEqual([[record.request_id]]);
  });

  it("keeps acknowledged records buffered when a write fails and writes them on the next attempt", async () => {
    const failures: number[] = [];
    const s = await start({ clock: () => ARRIVAL, buffering: { intervalMs: 600_000 }, onWriteError: (_, records) => void failures.push(records) });
    // A file where the year's folder belongs: the partition cannot be created.
    await mkdir(join(s.dir, "turns"), { recursive: true });
    await writeFile(join(s.dir, "turns", "year=2026"), "in the way");
    const record = turn();
    await put(s.client, record);
    await expect(s.firehose.flush()).rejects.toThrow();
    expect(failures).toEqual([1]);
    expect(s.firehose.metrics().bufferedRecords).toBe(1);
    await rm(join(s.dir, "turns", "year=2026"));
    await s.firehose.flush();
    expect(s.firehose.metrics().bufferedRecords).toBe(0);
    expect((await runLocalSql(s.dir, "SELECT request_id FROM turns")).rows).toEqual([[record.request_id]]);
  });
});
