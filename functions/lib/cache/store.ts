/**
 * The prepared-response table. Stack-config entries (`source: "config"`) never expire; entries
 * an operator adds expire after their `ttl`, which lookups also check by time (TTL deletion is
 * lazy). The worker only reads; writes come from the program, local mode and the operator
 * command.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import type { GatewayConfig } from "../config/schema.js";
import { isExpired } from "../conversations/keys.js";
import { ANY_MODEL, cacheKey, normalizePrompt, PREPARED_SCOPE } from "./key.js";

export type EntrySource = "config" | "operator";

export interface PreparedEntry {
  prompt: string;
  response: string;
  /** The model it answers for; absent: any model. */
  modelId?: string;
  source: EntrySource;
  /** When an operator added it; absent on stack-config entries (the deploy owns them). */
  createdAt?: string;
  /** Epoch seconds it expires at; absent: never. */
  ttl?: number;
}

/** One table item, as written by every writer. */
export function entryItem(entry: PreparedEntry): Record<string, string | number> {
  const modelId = entry.modelId ?? ANY_MODEL;
  return {
    cache_key: cacheKey(entry.prompt, modelId),
    scope: PREPARED_SCOPE,
    model_id: modelId,
    prompt: entry.prompt,
    normalized_prompt: normalizePrompt(entry.prompt),
    response: entry.response,
    source: entry.source,
    ...(entry.createdAt !== undefined ? { created_at: entry.createdAt } : {}),
    ...(entry.ttl !== undefined ? { ttl: entry.ttl } : {}),
  };
}

/** The stack's `cache.prepared` entries as items (the program's TableItems, local mode's puts). */
export function configEntryItems(config: Pick<GatewayConfig, "cache">): Record<string, string | number>[] {
  return config.cache.prepared.map((p) => entryItem({ ...p, source: "config" }));
}

function toEntry(item: Record<string, unknown>): PreparedEntry {
  return {
    prompt: item.prompt as string,
    response: item.response as string,
    ...(item.model_id !== ANY_MODEL ? { modelId: item.model_id as string } : {}),
    source: item.source as EntrySource,
    ...(typeof item.created_at === "string" ? { createdAt: item.created_at } : {}),
    ...(typeof item.ttl === "number" ? { ttl: item.ttl } : {}),
  };
}

export class PreparedCache {
  private readonly db: DynamoDBDocumentClient;
  private readonly now: () => number;

  constructor(private readonly options: { dynamodb: DynamoDBClient; tableName: string; now?: () => number }) {
    this.db = DynamoDBDocumentClient.from(options.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    this.now = options.now ?? Date.now;
  }

  /** The entry answering `prompt` on `modelId`: one for that model wins over one for any model. */
  async lookup(prompt: string, modelId: string): Promise<PreparedEntry | undefined> {
    const keys = [cacheKey(prompt, modelId), cacheKey(prompt, ANY_MODEL)];
    const result = await this.db.send(
      new BatchGetCommand({ RequestItems: { [this.options.tableName]: { Keys: keys.map((cache_key) => ({ cache_key })) } } }),
    );
    // Two small keys never exceed BatchGet's limits; unprocessed keys under throttling count as misses.
    const items = result.Responses?.[this.options.tableName] ?? [];
    const nowMs = this.now();
    for (const key of keys) {
      const item = items.find((i) => i.cache_key === key);
      if (item && !isExpired(item.ttl, nowMs)) return toEntry(item);
    }
    return undefined;
  }

  /** The entry stored for exactly (prompt, model), expired or not. */
  async get(prompt: string, modelId?: string): Promise<PreparedEntry | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.options.tableName, Key: { cache_key: cacheKey(prompt, modelId ?? ANY_MODEL) } }));
    return result.Item ? toEntry(result.Item) : undefined;
  }

  async put(entry: PreparedEntry): Promise<string> {
    const item = entryItem(entry);
    await this.db.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
    return item.cache_key as string;
  }

  /** Removes the entry for (prompt, model); returns what was there. */
  async delete(prompt: string, modelId?: string): Promise<PreparedEntry | undefined> {
    const result = await this.db.send(
      new DeleteCommand({ TableName: this.options.tableName, Key: { cache_key: cacheKey(prompt, modelId ?? ANY_MODEL) }, ReturnValues: "ALL_OLD" }),
    );
    return result.Attributes ? toEntry(result.Attributes) : undefined;
  }

  /** Every entry, expired ones included (flagged by their ttl); for operators, not the hot path. */
  async list(): Promise<(PreparedEntry & { expired: boolean })[]> {
    const entries: (PreparedEntry & { expired: boolean })[] = [];
    let start: ScanCommandOutput["LastEvaluatedKey"];
    const nowMs = this.now();
    do {
      const page: ScanCommandOutput = await this.db.send(new ScanCommand({ TableName: this.options.tableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) entries.push({ ...toEntry(item), expired: isExpired(item.ttl, nowMs) });
      start = page.LastEvaluatedKey;
    } while (start);
    return entries.sort((a, b) => a.prompt.localeCompare(b.prompt) || (a.modelId ?? "").localeCompare(b.modelId ?? ""));
  }

  /**
   * Makes the table's config entries exactly the stack's: puts every configured one and
   * removes config entries no longer configured (local mode with `--persist`; in AWS the
   * program's TableItems do this).
   */
  async syncConfigEntries(config: Pick<GatewayConfig, "cache">): Promise<void> {
    const wanted = configEntryItems(config);
    const keep = new Set(wanted.map((i) => i.cache_key));
    for (const entry of await this.list()) {
      const key = cacheKey(entry.prompt, entry.modelId ?? ANY_MODEL);
      if (entry.source === "config" && !keep.has(key)) await this.db.send(new DeleteCommand({ TableName: this.options.tableName, Key: { cache_key: key } }));
    }
    for (const item of wanted) await this.db.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
  }
}
