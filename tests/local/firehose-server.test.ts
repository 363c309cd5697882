/**
 * The local Firehose, driven by the real @aws-sdk/client-firehose: the operations the worker
 * uses, Firehose's errors and limits, and the Parquet layout the Glue table reads in AWS.
 */
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand, ResourceNotFoundException } from "@aws-sdk/client-firehose";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TurnRecord } from "../../functions/lib/analytics/columns.js";
import { encodeRecord } from "../../functions/lib/analytics/firehose.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { type LocalFirehose, startLocalFirehose } from "../../local/firehose/index.js";
import { runLocalSql } from "../../tools/analytics/local-queries.js";

const ARRIVAL = new Date("2026-03-07T23:59:58.000Z");

let firehose: LocalFirehose;
let client: FirehoseClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "firehose-"));
  firehose = await startLocalFirehose({ streamName: "turns", dir, clock: () => ARRIVAL });
  client = new FirehoseClient({ endpoint: firehose.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  client?.destroy();
  await firehose?.close();
  await rm(dir, { recursive: true, force: true });
});

function turn(overrides: Partial<TurnRecord> = {}): TurnRecord {
  return {
    request_id: crypto.randomUUID(),
    user_id: "user-1",
    conversation_id: "c-1",
    model_id: "us.amazon.nova-lite-v1:0",
    tier: "default",
    input_tokens: 10,
    output_tokens: 20,
    estimated_cost_usd: 0.0000054,
    cached: false,
    stop_reason: "end_turn",
    error_code: null,
    first_token_ms: 120,
    total_ms: 900,
    turn_at: Date.parse("2026-03-07T23:59:57.500Z"),
    prompt_preview: null,
    answer_preview: null,
    ...overrides,
  };
}

describe("local Firehose", () => {
  it("takes PutRecord and PutRecordBatch from the AWS SDK and writes Parquet under year=/month=/day= of the arrival time", async () => {
    const one = turn();
    const put = await client.send(new PutRecordCommand({ DeliveryStreamName: "turns", Record: { Data: encodeRecord(one) } }));
    expect(put.RecordId).toEqual(expect.any(String));
    const batch = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: "turns", Records: [turn({ user_id: "user-2", cached: true }), turn({ error_code: "model_error", input_tokens: null })].map((r) => ({ Data: encodeRecord(r) })) }),
    );
    expect(batch).toMatchObject({ FailedPutCount: 0, RequestResponses: [{ RecordId: expect.any(String) }, { RecordId: expect.any(String) }] });

    expect(firehose.files.map((f) => relative(dir, f))).toEqual([
      expect.stringMatching(/^turns\/year=2026\/month=03\/day=07\/turns-2026-03-07T23-59-58-000Z-[0-9a-f-]+\.parquet$/),
      expect.stringMatching(/^turns\/year=2026\/month=03\/day=07\/turns-.+\.parquet$/),
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
    const { rows } = await runLocalSql(dir, "SELECT request_id FROM turns WHERE user_id = 'user-3'");
    expect(rows).toEqual([[good.request_id]]);
    const errorsDir = join(dir, "errors/format-conversion-failed/year=2026/month=03/day=07");
    const [file] = await readdir(errorsDir);
    const lines = (await readFile(join(errorsDir, file!), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => Buffer.from(l.rawData, "base64").toString())).toEqual(["not json at all", wrongType.toString()]);
    expect(lines.every((l) => l.lastErrorCode === "DataFormatConversion.MalformedData")).toBe(true);
  });
});
