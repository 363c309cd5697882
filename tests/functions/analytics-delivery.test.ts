/**
 * The worker's Firehose delivery against the local Firehose, through the real SDK client:
 * single records, batches beyond Firehose's 500, and records the stream refuses.
 */
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TurnRecord } from "../../functions/lib/analytics/columns.js";
import { encodeRecord, FirehoseDelivery } from "../../functions/lib/analytics/firehose.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { type LocalFirehose, startLocalFirehose } from "../../local/firehose/index.js";
import { turnRecord } from "../support/turn-record.js";

const running: { firehose: LocalFirehose; client: FirehoseClient; dir: string }[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.client.destroy();
    await s.firehose.close();
    await rm(s.dir, { recursive: true, force: true });
  }
});

async function stream(maxRecords = 10_000) {
  const dir = await mkdtemp(join(tmpdir(), "delivery-"));
  const firehose = await startLocalFirehose({ streamName: "turns", dir, buffering: { intervalMs: 600_000, maxRecords } });
  const client = new FirehoseClient({ endpoint: firehose.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
  running.push({ firehose, client, dir });
  return { firehose, delivery: new FirehoseDelivery({ client, streamName: "turns" }) };
}

/** Record n: a fixed id to find it by, and a two-byte character to count UTF-8 bytes by. */
const turn = (n: number): TurnRecord =>
  turnRecord({
    request_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    estimated_cost_usd: null,
    turn_at: Date.parse("2026-03-07T12:00:00Z"),
    answer_preview: "é",
  });

describe("analytics delivery to Firehose", () => {
  it("encodes a record as one line of UTF-8 JSON", () => {
    const bytes = encodeRecord(turn(1));
    expect(Buffer.from(bytes).toString("utf8")).toBe(`${JSON.stringify(turn(1))}\n`);
    expect(bytes.length).toBe(Buffer.byteLength(JSON.stringify(turn(1)), "utf8") + 1);
  });

  it("sends nothing for no records, and one record alone", async () => {
    const { firehose, delivery } = await stream();
    expect(await delivery.deliver([])).toEqual({ delivered: 0, failed: 0, errorCodes: [] });
    expect(firehose.metrics()).toMatchObject({ incomingRecords: 0 });
    expect(await delivery.deliver([turn(1)])).toEqual({ delivered: 1, failed: 0, errorCodes: [] });
    expect(firehose.metrics()).toMatchObject({ incomingRecords: 1 });
  });

  it("splits more than 500 records into batches Firehose takes, counting every one", async () => {
    const { firehose, delivery } = await stream();
    const records = Array.from({ length: 502 }, (_, i) => turn(i));
    expect(await delivery.deliver(records)).toEqual({ delivered: 502, failed: 0, errorCodes: [] });
    expect(firehose.metrics()).toMatchObject({ incomingRecords: 502 });
  });

  it("reports the records a batch refused, with their error codes", async () => {
    const { delivery } = await stream(2);
    expect(await delivery.deliver([turn(1), turn(2), turn(3), turn(4)])).toEqual({
      delivered: 2,
      failed: 2,
      errorCodes: ["ServiceUnavailableException", "ServiceUnavailableException"],
    });
  });
});

describe("the analytics table's own description", () => {
  it("documents every column with a comment the Glue catalog shows", async () => {
    const { TURN_COLUMNS } = await import("../../functions/lib/analytics/columns.js");
    for (const column of TURN_COLUMNS) expect(column.comment?.length ?? 0, column.name).toBeGreaterThan(10);
  });

  it("names partition folders with two-digit months and days", async () => {
    const { partitionPath } = await import("../../functions/lib/analytics/columns.js");
    expect(partitionPath(new Date("2026-03-07T23:59:58Z"))).toBe("year=2026/month=03/day=07/");
  });

  it("gives every saved log query a name and a description", async () => {
    const { LOG_QUERIES } = await import("../../functions/lib/observability/log-queries.js");
    for (const query of LOG_QUERIES) {
      expect(query.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(query.description.length, query.name).toBeGreaterThan(20);
    }
    expect(new Set(LOG_QUERIES.map((q) => q.name)).size).toBe(LOG_QUERIES.length);
  });
});
