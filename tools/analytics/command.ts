/**
 * `npm run analytics -- <named query>`: the Athena named queries, run on DuckDB over the
 * Parquet records of the local gateway (`npm start`). `--list` lists them. Returns the exit code.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { NAMED_QUERIES, namedQuery } from "../../functions/lib/analytics/queries.js";
import { formatTable, hasRecords, runLocalQuery } from "./local-queries.js";

export const USAGE = `Usage: npm run analytics -- <query> [--state-dir <dir>] [--json]
       npm run analytics -- --list

Runs one of the gateway's named analytics queries (the same SQL as the Athena workgroup's)
on DuckDB over the Parquet records the local gateway wrote to <state-dir>/analytics.

  --list              the queries and what each shows
  --state-dir <dir>   npm start's state directory (default: .local)
  --json              rows as JSON lines instead of a table
  -h, --help          this text`;

export async function main(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { list: { type: "boolean" }, "state-dir": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    out(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (values.list) {
    const width = Math.max(...NAMED_QUERIES.map((q) => q.name.length));
    out(NAMED_QUERIES.map((q) => `${q.name.padEnd(width)}  ${q.description}`).join("\n"));
    return 0;
  }
  if (positionals.length !== 1) {
    out(USAGE);
    return 2;
  }
  const query = namedQuery(positionals[0]!);
  if (!query) {
    out(`No query named "${positionals[0]}". Known: ${NAMED_QUERIES.map((q) => q.name).join(", ")}.`);
    return 2;
  }
  const dir = resolve(values["state-dir"] ?? ".local", "analytics");
  if (!hasRecords(dir)) {
    out(`No analytics records under ${dir} yet: start the gateway (npm start) and chat first.`);
    return 1;
  }
  const result = await runLocalQuery(dir, query);
  if (values.json) {
    for (const row of result.rows) out(JSON.stringify(Object.fromEntries(result.columns.map((c, i) => [c, row[i]]))));
  } else {
    out(`${query.name}: ${query.description}\n\n${formatTable(result)}`);
  }
  return 0;
}
