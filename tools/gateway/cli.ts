/**
 * `npm run gateway -- <command>`: operator commands. This minimal dispatcher knows only
 * `cache` against the local gateway (`.local/endpoints.json` of a running `npm start`);
 * the metering branch's dispatcher (tools/gateway/cli.ts + target.ts) adds `usage`, `tier`
 * and `--stack` targets, and takes `runCacheCommand` from cache.ts as it is.
 *
 *   npm run gateway -- cache list [--local-stack dev]
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT, readStackConfig } from "../../local/config.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { ENDPOINTS_FILE, type LocalEndpoints } from "../../local/endpoints.js";
import { CacheCommandError, runCacheCommand } from "./cache.js";

async function localTarget(stack: string) {
  const file = join(PROJECT_ROOT, ".local", ENDPOINTS_FILE);
  const endpoints = JSON.parse(await readFile(file, "utf8").catch(() => {
    throw new CacheCommandError(`no local gateway found (${file} is missing): start one with npm start`);
  })) as LocalEndpoints;
  if (!endpoints.dynamodb) throw new CacheCommandError(`${file} names no DynamoDB endpoint: restart npm start`);
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb.endpoint, region: endpoints.region, credentials: LOCAL_CREDENTIALS });
  return { dynamodb, tables: endpoints.dynamodb.tables, config: readStackConfig({ stack }).config };
}

async function main(argv: string[]): Promise<number> {
  const stackFlag = argv.indexOf("--local-stack");
  const stack = stackFlag >= 0 ? argv[stackFlag + 1] ?? "dev" : "dev";
  const args = stackFlag >= 0 ? [...argv.slice(0, stackFlag), ...argv.slice(stackFlag + 2)] : argv;
  const [command, ...rest] = args;
  if (command !== "cache") throw new CacheCommandError(`unknown command "${command ?? ""}": this build knows "cache" (put | list | delete)`);
  const target = await localTarget(stack);
  try {
    return await runCacheCommand(target, rest);
  } finally {
    target.dynamodb.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    // Usage and target problems are for the operator; anything else is a failure with its name only.
    console.error(err instanceof CacheCommandError ? err.message : `failed: ${(err as Error)?.name ?? "error"}: ${(err as Error)?.message ?? ""}`);
    process.exitCode = 2;
  },
);
