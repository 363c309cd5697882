/**
 * The named analytics queries on DuckDB, for real, over Parquet files laid out as Firehose
 * writes them; and `npm run analytics`'s command. The same queries' Athena form is asserted
 * in tests/infra/analytics.test.ts.
 */
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionPath, RECORDS_PREFIX, type TurnRecord } from "../../functions/lib/analytics/columns.js";
import { athenaDialect, duckdbDialect, NAMED_QUERIES, namedQuery } from "../../functions/lib/analytics/queries.js";
import { ParquetWriter } from "../../local/firehose/parquet.js";
import { main } from "../../tools/analytics/command.js";
import { formatTable, runLocalQuery } from "../../tools/analytics/local-queries.js";

const DAY = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 12);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const LITE = "us.amazon.nova-lite-v1:0";
const SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0";

let stateDir: string;
let dir: string;

function turn(overrides: Partial<TurnRecord>): TurnRecord {
  return {
    request_id: crypto.randomUUID(),
    user_id: "alice",
    conversation_id: "c",
    model_id: LITE,
    tier: "default",
    input_tokens: 100,
    output_tokens: 200,
    estimated_cost_usd: 0.000054,
    cached: false,
    stop_reason: "end_turn",
    error_code: null,
    first_token_ms: 100,
    total_ms: 1000,
    turn_at: today,
    prompt_preview: null,
    answer_preview: null,
    ...overrides,
  };
}

const RECORDS: TurnRecord[] = [
  turn({ first_token_ms: 100, total_ms: 1000 }),
  turn({ first_token_ms: 300, total_ms: 3000, turn_at: today - DAY }),
  turn({ user_id: "bob", model_id: SONNET, input_tokens: 1000, output_tokens: 2000, estimated_cost_usd: null, first_token_ms: 500, total_ms: 5000 }),
  turn({ user_id: "bob", cached: true, input_tokens: 0, output_tokens: 0, estimated_cost_usd: 0, first_token_ms: 5, total_ms: 10 }),
  turn({ user_id: "carol", error_code: "limit_exceeded", stop_reason: null, input_tokens: 0, output_tokens: 0, estimated_cost_usd: 0, first_token_ms: null, total_ms: 20, turn_at: today - DAY }),
  // Outside the 30-day window: no query counts it.
  turn({ user_id: "dave", input_tokens: 99_999, turn_at: today - 40 * DAY }),
];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "analytics-queries-"));
  dir = join(stateDir, "analytics");
  const writer = await ParquetWriter.open();
  try {
    for (const [i, record] of RECORDS.entries()) {
      const folder = join(dir, RECORDS_PREFIX, partitionPath(new Date(record.turn_at)));
      await mkdir(folder, { recursive: true });
      expect(await writer.write([record], join(folder, `turns-${i}.parquet`))).toEqual([]);
    }
  } finally {
    writer.close();
  }
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

async function run(name: string) {
  const { columns, rows } = await runLocalQuery(dir, namedQuery(name)!);
  return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
}

describe("the named queries' descriptions", () => {
  it("say what each query shows, for the Athena console and `npm run analytics -- --list`", () => {
    expect(NAMED_QUERIES.length).toBeGreaterThan(5);
    expect(NAMED_QUERIES.filter((q) => q.description.length < 20).map((q) => q.name)).toEqual([]);
  });
});

describe("named analytics queries on DuckDB", () => {
  it("tokens-by-model sums each model's tokens over the window", async () => {
    expect(await run("tokens-by-model")).toEqual([
      { model_id: SONNET, turns: "1", input_tokens: "1000", output_tokens: "2000" },
      { model_id: LITE, turns: "4", input_tokens: "200", output_tokens: "400" },
    ]);
  });

  it("tokens-by-user ranks users by their total tokens", async () => {
    expect((await run("tokens-by-user")).map((r) => [r.user_id, r.total_tokens])).toEqual([
      ["bob", "3000"],
      ["alice", "600"],
      ["carol", "0"],
    ]);
  });

  it("daily-active-users counts distinct users per UTC day", async () => {
    expect(await run("daily-active-users")).toEqual([
      { day: isoDay(today - DAY), active_users: "2", turns: "2" },
      { day: isoDay(today), active_users: "2", turns: "3" },
    ]);
  });

  it("cache-hit-rate is the share of answered turns served from the cache", async () => {
    expect(await run("cache-hit-rate")).toEqual([
      { day: isoDay(today - DAY), answered_turns: "1", cache_hits: "0", hit_rate: 0 },
      { day: isoDay(today), answered_turns: "3", cache_hits: "1", hit_rate: 0.3333 },
    ]);
  });

  it("p95-latency-by-model covers model answers only (no cache hits, no errors)", async () => {
    expect(await run("p95-latency-by-model")).toEqual([
      { model_id: SONNET, turns: "1", p50_first_token_ms: 500, p95_first_token_ms: 500, p95_total_ms: 5000 },
      { model_id: LITE, turns: "2", p50_first_token_ms: 200, p95_first_token_ms: 290, p95_total_ms: 2900 },
    ]);
  });

  it("estimated-cost-by-user-and-model sums known costs and counts the unpriced turns apart", async () => {
    const rows = await run("estimated-cost-by-user-and-model");
    expect(rows).toContainEqual(expect.objectContaining({ user_id: "alice", model_id: LITE, turns: "2", estimated_cost_usd: 0.000108, unpriced_turns: "0" }));
    expect(rows).toContainEqual(expect.objectContaining({ user_id: "bob", model_id: SONNET, estimated_cost_usd: null, unpriced_turns: "1" }));
    expect(rows.at(-1)).toMatchObject({ estimated_cost_usd: null });
  });

  it("differ between Athena and DuckDB only in the table and the percentile function", () => {
    for (const query of NAMED_QUERIES) {
      const athena = query.sql(athenaDialect("db", "turns"));
      const duck = query.sql(duckdbDialect("turns"));
      expect(athena.replace('"db"."turns"', "turns").replaceAll("approx_percentile(", "quantile_cont(")).toBe(duck);
    }
  });
});

describe("npm run analytics", () => {
  const capture = async (argv: string[]) => {
    const out: string[] = [];
    const code = await main(argv, (text) => out.push(text));
    return { code, text: out.join("\n") };
  };

  it("--list names every query with what it shows", async () => {
    const { code, text } = await capture(["--list"]);
    expect(code).toBe(0);
    for (const q of NAMED_QUERIES) expect(text).toContain(q.name);
    expect(text.split("\n")).toHaveLength(NAMED_QUERIES.length);
  });

  it("prints a query's result as an aligned table", async () => {
    const { code, text } = await capture(["tokens-by-model", "--state-dir", stateDir]);
    expect(code).toBe(0);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^tokens-by-model: /);
    expect(lines.slice(2)).toEqual([
      "model_id                                    turns  input_tokens  output_tokens",
      "------------------------------------------  -----  ------------  -------------",
      `${SONNET}      1          1000           2000`,
      `${LITE.padEnd(42)}      4           200            400`,
      "(2 rows)",
    ]);
  });

  it("prints rows as JSON lines with --json", async () => {
    const { text } = await capture(["daily-active-users", "--json", "--state-dir", stateDir]);
    expect(text.split("\n").map((l) => JSON.parse(l))).toEqual([
      { day: isoDay(today - DAY), active_users: "2", turns: "2" },
      { day: isoDay(today), active_users: "2", turns: "3" },
    ]);
  });

  it("says what to do when there are no records, and names the known queries for an unknown one", async () => {
    const empty = await capture(["tokens-by-model", "--state-dir", join(stateDir, "nothing-here")]);
    expect(empty).toMatchObject({ code: 1, text: expect.stringContaining("No analytics records under") });
    const unknown = await capture(["tokens-by-moon"]);
    expect(unknown).toMatchObject({ code: 2, text: expect.stringContaining("tokens-by-model, tokens-by-user") });
  });

  it("shows an empty cell for null and right-aligns numbers", () => {
    expect(formatTable({ columns: ["name", "n"], rows: [["a", 1], [null, 10]] }).split("\n")).toEqual(["name   n", "----  --", "a      1", "      10", "(2 rows)"]);
  });
});
