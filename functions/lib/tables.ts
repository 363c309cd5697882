/**
 * Table key schemas, shared by the Pulumi components and local mode. Later tables (usage,
 * conversations, cache) are added here as their issues land.
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

export const TABLES = [IDEMPOTENCY_TABLE] as const;
