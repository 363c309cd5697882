/**
 * Table key schemas, shared by the Pulumi components and local mode.
 */
export interface TableSchema {
  /** Logical name; Pulumi autonames the physical one. */
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** Attribute holding the expiry epoch seconds, when rows expire. */
  ttlAttribute?: string;
  /** Global secondary indexes (string keys, all attributes projected). */
  indexes?: readonly TableIndex[];
}

export interface TableIndex {
  name: string;
  partitionKey: string;
  sortKey: string;
}

/** Powertools idempotency persistence layer defaults: `id` key, `expiration` TTL. */
export const IDEMPOTENCY_TABLE: TableSchema = {
  name: "idempotency",
  partitionKey: "id",
  ttlAttribute: "expiration",
};

/**
 * Token metering (functions/lib/metering): per user, the admission record, ten-minute bucket
 * rows and month rows. Every row carries `ttl`.
 */
export const USAGE_TABLE: TableSchema = {
  name: "usage",
  partitionKey: "user_id",
  sortKey: "period_id",
  ttlAttribute: "ttl",
};

/**
 * Conversation history, one partition per user (functions/lib/conversations/keys.ts):
 * `conv#<conversationId>` summary rows, `turn#<conversationId>#<at>#<requestId>` turn rows and
 * `run#<requestId>` records of running answers (cancel). Only summary rows carry `updated_at`,
 * so the sparse `by-updated` index lists a user's conversations newest first.
 */
export const CONVERSATIONS_TABLE: TableSchema = {
  name: "conversations",
  partitionKey: "user_id",
  sortKey: "sk",
  ttlAttribute: "ttl",
  indexes: [{ name: "by-updated", partitionKey: "user_id", sortKey: "updated_at" }],
};

/**
 * Prepared responses, keyed by the sha256 of (scope, model or "any", normalized prompt)
 * (functions/lib/cache/key.ts). Entries from stack config carry no `ttl`.
 */
export const CACHE_TABLE: TableSchema = {
  name: "cache",
  partitionKey: "cache_key",
  ttlAttribute: "ttl",
};

/** Every attribute a table or one of its indexes is keyed on (all strings). */
export function keyAttributes(schema: TableSchema): string[] {
  const names = [schema.partitionKey, schema.sortKey, ...(schema.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])];
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

export const TABLES = [IDEMPOTENCY_TABLE, USAGE_TABLE, CONVERSATIONS_TABLE, CACHE_TABLE] as const;
