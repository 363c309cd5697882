/**
 * `npm run gateway -- cache put|list|delete`: the operator's side of the prepared-response
 * cache, against whatever target the CLI resolved (the local gateway or a deployed stack).
 *
 *   cache put --prompt <text> --response <text> [--model <id>] [--ttl-days <n> | --no-expiry]
 *   cache list
 *   cache delete --prompt <text> [--model <id>]
 *
 * Entries put here are shared by every user (that is what the cache is for): put only answers
 * meant for everyone. They expire after `--ttl-days` (default: the stack's `cache.ttlDays`);
 * stack-config entries are managed by the stack file and refused here.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parseArgs } from "node:util";
import { normalizePrompt } from "../../functions/lib/cache/key.js";
import { PreparedCache, type PreparedEntry } from "../../functions/lib/cache/store.js";
import { CACHE_TABLE } from "../../functions/lib/tables.js";

export interface CacheTarget {
  dynamodb: DynamoDBClient;
  /** Physical table names by logical name (`cache` is the one used here). */
  tables: Record<string, string>;
  /** The stack's config, for `cache.ttlDays` and the model allowlist. */
  config?: { cache: { ttlDays: number }; models: { id: string }[] };
  /** Where output lines go. @default console.log */
  print?: (line: string) => void;
  now?: () => number;
}

const USAGE = [
  "usage: npm run gateway -- cache put --prompt <text> --response <text> [--model <id>] [--ttl-days <n> | --no-expiry]",
  "       npm run gateway -- cache list",
  "       npm run gateway -- cache delete --prompt <text> [--model <id>]",
].join("\n");

export class CacheCommandError extends Error {}

/** Runs one cache command; resolves to the process exit code. Bad usage throws CacheCommandError. */
export async function runCacheCommand(target: CacheTarget, argv: readonly string[]): Promise<number> {
  const print = target.print ?? ((line: string) => console.log(line));
  const now = target.now ?? Date.now;
  const tableName = target.tables[CACHE_TABLE.name];
  if (!tableName) throw new CacheCommandError("the target has no cache table");
  const cache = new PreparedCache({ dynamodb: target.dynamodb, tableName, now });
  const [command, ...rest] = argv;
  const { values } = parse(rest);
  const model = values.model;
  if (model !== undefined && target.config && !target.config.models.some((m) => m.id === model)) {
    throw new CacheCommandError(`--model ${model} is not in the stack's models allowlist`);
  }

  switch (command) {
    case "put": {
      if (!values.prompt || normalizePrompt(values.prompt) === "") throw new CacheCommandError(`--prompt is required\n${USAGE}`);
      if (!values.response) throw new CacheCommandError(`--response is required\n${USAGE}`);
      const existing = await findEntry(cache, values.prompt, model);
      if (existing?.source === "config") throw configOwned();
      const ttlDays = values["no-expiry"] ? undefined : values["ttl-days"] !== undefined ? positiveDays(values["ttl-days"]) : (target.config?.cache.ttlDays ?? 7);
      const entry: PreparedEntry = {
        prompt: values.prompt,
        response: values.response,
        ...(model ? { modelId: model } : {}),
        source: "operator",
        createdAt: new Date(now()).toISOString(),
        ...(ttlDays !== undefined ? { ttl: Math.floor(now() / 1000) + ttlDays * 86_400 } : {}),
      };
      await cache.put(entry);
      print(`put "${normalizePrompt(values.prompt)}" (${model ?? "any model"}), ${ttlDays === undefined ? "never expires" : `expires ${new Date(entry.ttl! * 1000).toISOString()}`}`);
      return 0;
    }
    case "list": {
      const entries = await cache.list();
      if (entries.length === 0) {
        print("no prepared responses");
        return 0;
      }
      print(table(["PROMPT", "MODEL", "SOURCE", "EXPIRES", "RESPONSE"], entries.map((e) => [
        clip(e.prompt, 40),
        e.modelId ?? "any",
        e.source,
        e.ttl === undefined ? "never" : `${new Date(e.ttl * 1000).toISOString()}${e.expired ? " (expired)" : ""}`,
        clip(e.response, 40),
      ])));
      return 0;
    }
    case "delete": {
      if (!values.prompt) throw new CacheCommandError(`--prompt is required\n${USAGE}`);
      const existing = await findEntry(cache, values.prompt, model);
      if (!existing) {
        print(`no prepared response for "${normalizePrompt(values.prompt)}" (${model ?? "any model"})`);
        return 1;
      }
      if (existing.source === "config") throw configOwned();
      await cache.delete(values.prompt, model);
      print(`deleted "${normalizePrompt(values.prompt)}" (${model ?? "any model"})`);
      return 0;
    }
    default:
      throw new CacheCommandError(command ? `unknown cache command "${command}"\n${USAGE}` : USAGE);
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        prompt: { type: "string" },
        response: { type: "string" },
        model: { type: "string" },
        "ttl-days": { type: "string" },
        "no-expiry": { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new CacheCommandError(`${(err as Error).message}\n${USAGE}`);
  }
}

function findEntry(cache: PreparedCache, prompt: string, model: string | undefined): Promise<PreparedEntry | undefined> {
  return cache.get(prompt, model);
}

const configOwned = () =>
  new CacheCommandError("that entry comes from the stack config (cache.prepared): change it there and deploy (or restart npm start)");

function positiveDays(text: string): number {
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new CacheCommandError("--ttl-days must be a whole number of days from 1 to 3650");
  return days;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
