/**
 * Table key schemas, shared by the Pulumi components and local mode. Later tables
 * (conversations, cache) are added here as their issues land.
 */
export interface TableSchema {
  /** Logical name; Pulumi autonames the physical one. */
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** Attribute holding the expiry epoch seconds, when rows expire. */
  ttlAttribute?: string;
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

export const TABLES = [IDEMPOTENCY_TABLE, USAGE_TABLE] as const;
