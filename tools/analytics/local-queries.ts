/**
 * Running the named analytics queries (functions/lib/analytics/queries.ts) on DuckDB over the
 * Parquet files the local Firehose wrote: a `turns` view reads `<dir>/turns/**\/*.parquet`
 * with its `year=/month=/day=` folders as columns, as the Glue table does in Athena.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { RECORDS_PREFIX } from "../../functions/lib/analytics/columns.js";
import { duckdbDialect, type NamedQuery } from "../../functions/lib/analytics/queries.js";
import { sqlString } from "../../local/firehose/parquet.js";

export interface QueryResult {
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

/** Whether any Parquet file sits under `<dir>/turns/`. */
export function hasRecords(dir: string): boolean {
  const root = join(dir, RECORDS_PREFIX);
  if (!existsSync(root)) return false;
  const stack = [root];
  while (stack.length) {
    const folder = stack.pop()!;
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) stack.push(path);
      else if (entry.endsWith(".parquet")) return true;
    }
  }
  return false;
}

export function runLocalQuery(dir: string, query: NamedQuery): Promise<QueryResult> {
  return runLocalSql(dir, query.sql(duckdbDialect("turns")));
}

/** Any SQL over the `turns` view of `<dir>/turns/`. */
export async function runLocalSql(dir: string, sql: string): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const files = sqlString(join(dir, RECORDS_PREFIX, "**", "*.parquet"));
    await connection.run(
      `CREATE VIEW turns AS SELECT * FROM read_parquet(${files}, hive_partitioning = true, union_by_name = true,
         hive_types = {'year': VARCHAR, 'month': VARCHAR, 'day': VARCHAR})`,
    );
    const reader = await connection.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRowsJson() as QueryResult["rows"] };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A plain-text table: a header, a rule, right-aligned numbers; `null` shown as an empty cell. */
export function formatTable({ columns, rows }: QueryResult): string {
  const cells = rows.map((row) => row.map((v) => (v === null ? "" : String(v))));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === "number" || /^-?\d+(\.\d+)?$/.test(String(r[i]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? "" : "s"})`].join("\n");
}
