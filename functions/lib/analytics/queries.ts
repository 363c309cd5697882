/**
 * The named analytics queries, defined once. Athena runs them as the workgroup's named
 * queries (components/analytics.ts) over the Glue table; `npm run analytics` runs them on
 * DuckDB over the local Parquet files. Each query is written against a dialect, and the two
 * dialects below are the only place where Athena's SQL and DuckDB's differ.
 */

export interface SqlDialect {
  name: "athena" | "duckdb";
  /** The table (or view) of turn records, with `year`/`month`/`day` partition columns. */
  turns: string;
  /** An approximate percentile, `fraction` in 0..1. */
  percentile(expression: string, fraction: number): string;
}

/** Athena (Trino): the Glue table by database and name. */
export function athenaDialect(database: string, table: string): SqlDialect {
  return { name: "athena", turns: `"${database}"."${table}"`, percentile: (e, f) => `approx_percentile(${e}, ${f})` };
}

/** DuckDB: a view over the Parquet files (tools/analytics creates it). */
export function duckdbDialect(view = "turns"): SqlDialect {
  return { name: "duckdb", turns: view, percentile: (e, f) => `quantile_cont(${e}, ${f})` };
}

/** The window every query looks at. */
export const WINDOW_DAYS = 30;

/**
 * Turns of the last WINDOW_DAYS days. The `year` condition lets Athena's partition projection
 * skip whole years instead of listing every projected partition; both engines read it the same.
 */
const recentTurns = `turn_at >= CAST(current_timestamp - INTERVAL '${WINDOW_DAYS}' DAY AS TIMESTAMP)
  AND year >= CAST(year(current_date - INTERVAL '${WINDOW_DAYS}' DAY) AS VARCHAR)`;

export interface NamedQuery {
  /** The Athena named query's name and `npm run analytics -- <name>`. */
  name: string;
  description: string;
  sql(dialect: SqlDialect): string;
}

export const NAMED_QUERIES: readonly NamedQuery[] = [
  {
    name: "tokens-by-model",
    description: `Input and output tokens per model, last ${WINDOW_DAYS} days`,
    sql: (d) => `SELECT model_id,
  count(*) AS turns,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens
FROM ${d.turns}
WHERE ${recentTurns}
GROUP BY model_id
ORDER BY output_tokens DESC NULLS LAST`,
  },
  {
    name: "tokens-by-user",
    description: `The 100 users with the most tokens, last ${WINDOW_DAYS} days`,
    sql: (d) => `SELECT user_id,
  count(*) AS turns,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS total_tokens
FROM ${d.turns}
WHERE ${recentTurns}
GROUP BY user_id
ORDER BY total_tokens DESC
LIMIT 100`,
  },
  {
    name: "daily-active-users",
    description: `Users with at least one turn, per UTC day, last ${WINDOW_DAYS} days`,
    sql: (d) => `SELECT CAST(turn_at AS DATE) AS day,
  count(DISTINCT user_id) AS active_users,
  count(*) AS turns
FROM ${d.turns}
WHERE ${recentTurns}
GROUP BY CAST(turn_at AS DATE)
ORDER BY day`,
  },
  {
    name: "cache-hit-rate",
    description: `Share of answered turns served from the prepared-response cache, per UTC day, last ${WINDOW_DAYS} days`,
    sql: (d) => `SELECT CAST(turn_at AS DATE) AS day,
  count(*) AS answered_turns,
  count_if(cached) AS cache_hits,
  round(avg(CASE WHEN cached THEN 1.0 ELSE 0.0 END), 4) AS hit_rate
FROM ${d.turns}
WHERE ${recentTurns} AND error_code IS NULL
GROUP BY CAST(turn_at AS DATE)
ORDER BY day`,
  },
  {
    name: "p95-latency-by-model",
    description: `Time to first token and to the end of the answer (ms) per model, model answers only, last ${WINDOW_DAYS} days`,
    sql: (d) => `SELECT model_id,
  count(*) AS turns,
  round(${d.percentile("first_token_ms", 0.5)}) AS p50_first_token_ms,
  round(${d.percentile("first_token_ms", 0.95)}) AS p95_first_token_ms,
  round(${d.percentile("total_ms", 0.95)}) AS p95_total_ms
FROM ${d.turns}
WHERE ${recentTurns} AND error_code IS NULL AND NOT cached AND model_id IS NOT NULL
GROUP BY model_id
ORDER BY p95_total_ms DESC`,
  },
  {
    name: "estimated-cost-by-user-and-model",
    description: `Estimated USD per user and model from models[].pricing, last ${WINDOW_DAYS} days; unpriced turns are counted, never costed`,
    sql: (d) => `SELECT user_id,
  model_id,
  count(*) AS turns,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  round(sum(estimated_cost_usd), 6) AS estimated_cost_usd,
  count_if(estimated_cost_usd IS NULL) AS unpriced_turns
FROM ${d.turns}
WHERE ${recentTurns}
GROUP BY user_id, model_id
ORDER BY estimated_cost_usd DESC NULLS LAST`,
  },
];

export function namedQuery(name: string): NamedQuery | undefined {
  return NAMED_QUERIES.find((q) => q.name === name);
}
