/**
 * The gateway's DynamoDB tables, generated from the shared key schemas in functions/lib/tables.ts
 * so the deployed tables and local mode cannot disagree. On-demand, encrypted, TTL where rows
 * expire; point-in-time recovery and deletion protection as the stack asks.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { keyAttributes, type TableSchema } from "../functions/lib/tables.js";

export interface TablesArgs {
  /** The key schemas to create, one table each. */
  schemas: readonly TableSchema[];
  /** Continuous backups (35 days of restore points). @default false */
  pointInTimeRecovery?: boolean;
  /** Refuse DeleteTable, also from `pulumi destroy`. @default false */
  deletionProtection?: boolean;
}

export class Tables extends pulumi.ComponentResource {
  /** By logical name (`TableSchema.name`). */
  readonly tables: Record<string, aws.dynamodb.Table> = {};

  constructor(name: string, args: TablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Tables", name, {}, opts);
    const { pointInTimeRecovery, deletionProtection } = { pointInTimeRecovery: false, deletionProtection: false, ...args };
    const names = new Set<string>();
    for (const schema of args.schemas) {
      if (names.has(schema.name)) throw new Error(`Tables: two schemas are named "${schema.name}"`);
      names.add(schema.name);
      this.tables[schema.name] = new aws.dynamodb.Table(
        `${name}-${schema.name}`,
        {
          billingMode: "PAY_PER_REQUEST",
          hashKey: schema.partitionKey,
          rangeKey: schema.sortKey,
          // Key attributes (the table's and its indexes') are strings in every shared schema.
          attributes: keyAttributes(schema).map((key) => ({ name: key, type: "S" })),
          globalSecondaryIndexes: schema.indexes?.map((index) => ({
            name: index.name,
            hashKey: index.partitionKey,
            rangeKey: index.sortKey,
            projectionType: "ALL",
          })),
          serverSideEncryption: { enabled: true },
          ttl: schema.ttlAttribute ? { attributeName: schema.ttlAttribute, enabled: true } : undefined,
          pointInTimeRecovery: { enabled: pointInTimeRecovery },
          deletionProtectionEnabled: deletionProtection,
        },
        { parent: this, protect: deletionProtection },
      );
    }
    this.registerOutputs({ tableNames: Object.fromEntries(Object.entries(this.tables).map(([k, t]) => [k, t.name])) });
  }
}
