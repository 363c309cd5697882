/**
 * The analytics record of one chat turn, column by column. This list is the one schema: the
 * Glue table (components/analytics.ts) is built from it, Firehose converts records to Parquet
 * through that table, and the local sink (local/firehose) writes the same columns with DuckDB.
 * Names are snake_case, as Athena and Logs Insights users type them.
 */

/** Hive/Glue type names; local/firehose maps them to DuckDB's. */
export type ColumnType = "string" | "bigint" | "int" | "double" | "boolean" | "timestamp";

export interface Column {
  name: keyof TurnRecord;
  type: ColumnType;
  comment: string;
}

/** One chat turn as stored. JSON on the wire (`turn_at` in epoch milliseconds). */
export interface TurnRecord {
  request_id: string;
  user_id: string;
  conversation_id: string;
  model_id: string | null;
  tier: string;
  input_tokens: number | null;
  output_tokens: number | null;
  estimated_cost_usd: number | null;
  cached: boolean;
  stop_reason: string | null;
  error_code: string | null;
  first_token_ms: number | null;
  total_ms: number;
  turn_at: number;
  prompt_preview: string | null;
  answer_preview: string | null;
}

export const TURN_COLUMNS: readonly Column[] = [
  { name: "request_id", type: "string", comment: "the client's requestId (correlation id in the logs)" },
  { name: "user_id", type: "string", comment: "Cognito sub of the user" },
  { name: "conversation_id", type: "string", comment: "the conversation the turn belongs to" },
  { name: "model_id", type: "string", comment: "the model that answered; else the one the request named; null when neither" },
  { name: "tier", type: "string", comment: "the user's tier for this turn" },
  { name: "input_tokens", type: "bigint", comment: "input tokens the model reported; null when an answer failed mid-way" },
  { name: "output_tokens", type: "bigint", comment: "output tokens the model reported; null when an answer failed mid-way" },
  { name: "estimated_cost_usd", type: "double", comment: "tokens at the model's configured prices; null without prices" },
  { name: "cached", type: "boolean", comment: "answered from the prepared-response cache" },
  { name: "stop_reason", type: "string", comment: "the done event's stopReason; null for errors" },
  { name: "error_code", type: "string", comment: "the error event's code; null when the turn ended with done" },
  { name: "first_token_ms", type: "int", comment: "milliseconds until the first answer text; null without text" },
  { name: "total_ms", type: "int", comment: "milliseconds until the turn's final event" },
  { name: "turn_at", type: "timestamp", comment: "when the turn began (UTC); partitions are by arrival time" },
  { name: "prompt_preview", type: "string", comment: "first characters of the prompt, only with observability.logPreviews" },
  { name: "answer_preview", type: "string", comment: "first characters of the answer, only with observability.logPreviews" },
];

/**
 * Partition folders, by the time Firehose received the record (Firehose's `!{timestamp:...}`
 * namespace is arrival time). Each path segment is `<key>=<value>` with two-digit months and
 * days, which the Glue table's partition projection and DuckDB's hive partitioning both read.
 */
export const PARTITION_KEYS = ["year", "month", "day"] as const;

/** The folder under the bucket (or the local analytics directory) holding the records. */
export const RECORDS_PREFIX = "turns/";

/** Firehose's S3 prefix: the partition folders of one record. */
export const FIREHOSE_PARTITION_PREFIX = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/";

/** The same folders for a given arrival time, as local/firehose writes them. */
export function partitionPath(at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `year=${at.getUTCFullYear()}/month=${two(at.getUTCMonth() + 1)}/day=${two(at.getUTCDate())}/`;
}
