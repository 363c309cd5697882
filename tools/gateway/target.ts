/**
 * Which gateway an operator command acts on, and the clients to reach it.
 *
 * - By default the local gateway (`npm start`), found through `<state dir>/endpoints.json`:
 *   DynamoDB Local and cognito-local on loopback, with the stack file it runs.
 * - With `--stack <name>` a deployed stack, with the caller's own AWS credentials (default
 *   chain: environment, profile/SSO, instance role). Resource names come from
 *   `pulumi stack output --json` when the Pulumi CLI is installed, else from the flags
 *   `--usage-table`, `--user-pool-id` (and `--region`); the limits from `Pulumi.<name>.yaml`.
 */
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { GatewayConfig } from "../../functions/lib/config/schema.js";
import { CACHE_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE } from "../../functions/lib/tables.js";
import { PROJECT_ROOT, readStackConfig } from "../../local/config.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { ENDPOINTS_FILE, type LocalEndpoints } from "../../local/endpoints.js";

/**
 * What every `npm run gateway -- <command>` receives. Commands use the clients as they are
 * and never create their own; `close()` releases them.
 */
export interface GatewayTarget {
  /** "local": the gateway `npm start` runs; "stack": a deployed stack. */
  kind: "local" | "stack";
  /** The Pulumi stack whose config applies (the local gateway's stack file, or `--stack`). */
  stack: string;
  region: string;
  /** The validated stack config: tiers and limits, models, cache... */
  config: GatewayConfig;
  dynamodb: DynamoDBClient;
  /**
   * Physical table names by logical name (`TableSchema.name`, functions/lib/tables.ts), e.g.
   * `tables.usage`. A deployed stack names only the tables its outputs or flags name.
   */
  tables: Record<string, string>;
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
  close(): void;
}

export interface TargetOptions {
  /** A deployed stack; absent: the local gateway. */
  stack?: string;
  /** Where the local gateway's endpoints.json is. @default `<repository>/.local` */
  stateDir?: string;
  usageTable?: string;
  /** The stack's cache table (prepared responses). @default the stack output cacheTableName */
  cacheTable?: string;
  userPoolId?: string;
  region?: string;
  /** Where Pulumi.yaml and the stack files are. @default the repository root */
  projectDir?: string;
}

/** A problem the operator can fix; the CLI prints just the message. */
export class TargetError extends Error {
  override name = "TargetError";
}

export async function resolveTarget(options: TargetOptions = {}): Promise<GatewayTarget> {
  return options.stack ? deployedTarget(options.stack, options) : localTarget(options);
}

function localTarget(options: TargetOptions): GatewayTarget {
  const file = join(resolve(options.stateDir ?? join(options.projectDir ?? PROJECT_ROOT, ".local")), ENDPOINTS_FILE);
  if (!existsSync(file)) {
    throw new TargetError(`No local gateway is running (${file} does not exist). Start one with \`npm start\`, or pass --stack <name> for a deployed stack.`);
  }
  const endpoints = JSON.parse(readFileSync(file, "utf8")) as LocalEndpoints;
  if (!endpoints.dynamodb) throw new TargetError(`${file} has no "dynamodb" entry: it was written by an older gateway. Restart \`npm start\`.`);
  const { config } = readStackConfig({ stack: endpoints.stack ?? "dev", projectDir: options.projectDir });
  const clientOptions = { region: endpoints.region, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...clientOptions, endpoint: endpoints.dynamodb.endpoint });
  const cognito = new CognitoIdentityProviderClient({ ...clientOptions, endpoint: endpoints.cognito.endpoint });
  return {
    kind: "local",
    stack: endpoints.stack ?? "dev",
    region: endpoints.region,
    config,
    dynamodb,
    tables: endpoints.dynamodb.tables,
    cognito,
    userPoolId: endpoints.cognito.userPoolId,
    close: () => {
      dynamodb.destroy();
      cognito.destroy();
    },
  };
}

async function deployedTarget(stack: string, options: TargetOptions): Promise<GatewayTarget> {
  let stackConfig: ReturnType<typeof readStackConfig>;
  try {
    stackConfig = readStackConfig({ stack, projectDir: options.projectDir });
  } catch (err) {
    throw new TargetError((err as Error).message);
  }
  const needsOutputs = !options.usageTable || !options.userPoolId;
  const outputs = needsOutputs ? stackOutputs(stack, options.projectDir ?? PROJECT_ROOT) : {};
  const usageTable = options.usageTable ?? outputs.usageTableName;
  const userPoolId = options.userPoolId ?? outputs.userPoolId;
  if (!usageTable || !userPoolId) {
    throw new TargetError(`The outputs of stack "${stack}" lack ${!usageTable ? "usageTableName" : "userPoolId"}. Deploy the stack (\`pulumi up\`), or pass --usage-table and --user-pool-id.`);
  }
  const region = options.region ?? outputs.region ?? stackConfig.region;
  try {
    await defaultProvider()();
  } catch {
    throw new TargetError(
      `No AWS credentials found for stack "${stack}". Sign in the way you deploy (environment variables, \`aws sso login\` with AWS_PROFILE, or an instance role) and run the command again.`,
    );
  }
  const dynamodb = new DynamoDBClient({ region });
  const cognito = new CognitoIdentityProviderClient({ region });
  return {
    kind: "stack",
    stack,
    region,
    config: stackConfig.config,
    dynamodb,
    tables: {
      [USAGE_TABLE.name]: usageTable,
      ...(outputs.idempotencyTableName ? { [IDEMPOTENCY_TABLE.name]: outputs.idempotencyTableName } : {}),
      ...((options.cacheTable ?? outputs.cacheTableName) ? { [CACHE_TABLE.name]: (options.cacheTable ?? outputs.cacheTableName)! } : {}),
    },
    cognito,
    userPoolId,
    close: () => {
      dynamodb.destroy();
      cognito.destroy();
    },
  };
}

/** `pulumi stack output --json`, or a message saying what to pass instead. */
function stackOutputs(stack: string, cwd: string): Record<string, string | undefined> {
  const result = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], { cwd, encoding: "utf8" });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new TargetError(
      `The Pulumi CLI is not installed, so the names of stack "${stack}"'s resources are unknown. Pass --usage-table <name> and --user-pool-id <id> (the stack outputs usageTableName and userPoolId).`,
    );
  }
  if (result.status !== 0) {
    const reason = (result.stderr || "").trim().split("\n").at(-1) ?? "";
    throw new TargetError(`\`pulumi stack output --stack ${stack}\` failed${reason ? `: ${reason}` : ""}. Pass --usage-table and --user-pool-id instead.`);
  }
  return JSON.parse(result.stdout) as Record<string, string | undefined>;
}
