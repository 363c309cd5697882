/**
 * Writing turn records as Parquet with DuckDB, in the columns and types of the Glue table
 * (functions/lib/analytics/columns.ts), as Firehose's format conversion would: unknown keys
 * are ignored, missing ones become null, and a record that does not fit is set aside.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { TURN_COLUMNS, type ColumnType } from "../../functions/lib/analytics/columns.js";

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: "VARCHAR",
  bigint: "BIGINT",
  int: "INTEGER",
  double: "DOUBLE",
  boolean: "BOOLEAN",
  // Arrives as epoch milliseconds (the Glue SerDe's "millis" format).
  timestamp: "BIGINT",
};

/** `'...'` with quotes doubled: for paths, which come from this module, never from records. */
export const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

const jsonStructure = JSON.stringify([Object.fromEntries(TURN_COLUMNS.map((c) => [c.name, DUCKDB_TYPES[c.type]]))]);
const tableColumns = TURN_COLUMNS.map((c) => `${c.name} ${c.type === "timestamp" ? "TIMESTAMP" : DUCKDB_TYPES[c.type]}`).join(", ");
const selectColumns = TURN_COLUMNS.map((c) => (c.type === "timestamp" ? `make_timestamp(r.${c.name} * 1000) AS ${c.name}` : `r.${c.name}`)).join(", ");

export class ParquetWriter {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(): Promise<ParquetWriter> {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    return new ParquetWriter(instance, connection);
  }

  /**
   * Writes the records that convert into `file`; resolves to the indexes of those that do not
   * (each with DuckDB's reason). Writes run one at a time.
   */
  write(records: readonly object[], file: string): Promise<{ index: number; reason: string }[]> {
    const run = this.chain.then(() => this.writeNow(records, file));
    this.chain = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async writeNow(records: readonly object[], file: string): Promise<{ index: number; reason: string }[]> {
    const rejected: { index: number; reason: string }[] = [];
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE batch (${tableColumns})`);
    try {
      try {
        await this.insert(records);
      } catch {
        // One bad record fails the whole statement: find it by converting records one by one.
        for (const [index, record] of records.entries()) {
          await this.insert([record]).catch((err: Error) => rejected.push({ index, reason: err.message.split("\n")[0]! }));
        }
      }
      if (rejected.length < records.length) await this.connection.run(`COPY batch TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`);
    } finally {
      await this.connection.run("DROP TABLE IF EXISTS batch");
    }
    return rejected;
  }

  private async insert(records: readonly object[]): Promise<void> {
    // The table's keys only, missing ones null; the strict conversion then fails on wrong types.
    const rows = records.map((r) => Object.fromEntries(TURN_COLUMNS.map((c) => [c.name, (r as Record<string, unknown>)[c.name] ?? null])));
    await this.connection.run(
      `INSERT INTO batch SELECT ${selectColumns} FROM (SELECT unnest(from_json_strict($1::JSON, ${sqlString(jsonStructure)})) AS r)`,
      [JSON.stringify(rows)],
    );
  }
}
