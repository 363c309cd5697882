/**
 * The stack's prepared responses (`cache.prepared`) as items of the cache table, one
 * TableItem each, keyed exactly as the worker looks them up (functions/lib/cache). They never
 * expire; removing one from the stack config removes its item at the next deploy.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { configEntryItems } from "../functions/lib/cache/store.js";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { CACHE_TABLE } from "../functions/lib/tables.js";

export interface PreparedResponsesArgs {
  /** The stack config; its `cache.prepared` entries become items. */
  config: Pick<GatewayConfig, "cache">;
  /** The cache table's name. */
  tableName: pulumi.Input<string>;
}

export class PreparedResponses extends pulumi.ComponentResource {
  readonly items: aws.dynamodb.TableItem[];

  constructor(name: string, args: PreparedResponsesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:PreparedResponses", name, {}, opts);
    // Named by the key, so editing an entry's answer updates it in place, and its prompt replaces it.
    this.items = configEntryItems(args.config).map(
      (item) =>
        new aws.dynamodb.TableItem(
          `${name}-${String(item.cache_key).slice(0, 16)}`,
          { tableName: args.tableName, hashKey: CACHE_TABLE.partitionKey, item: JSON.stringify(attributeValues(item)) },
          { parent: this },
        ),
    );
    this.registerOutputs({ count: this.items.length });
  }
}

/** DynamoDB's JSON for an item of strings and numbers (all a cache item holds). */
export function attributeValues(item: Record<string, string | number>): Record<string, { S: string } | { N: string }> {
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, typeof value === "number" ? { N: String(value) } : { S: value }]));
}
