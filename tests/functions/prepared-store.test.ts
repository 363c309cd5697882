/**
 * The prepared-response table (PreparedCache) against DynamoDB Local with the real SDK, the
 * cache's place in a turn (lookup.ts) and how a hit is relayed (answer.ts). The worker's use of
 * them is prepared-cache.test.ts; the operator command's is cache-command.test.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { NO_TOKENS, relayCachedAnswer } from "../../functions/lib/cache/answer.js";
import { ANY_MODEL, cacheKey, normalizePrompt, PREPARED_SCOPE } from "../../functions/lib/cache/key.js";
import { findPreparedAnswer, startPreparedLookup } from "../../functions/lib/cache/lookup.js";
import { configEntryItems, entryItem, PreparedCache, type PreparedEntry } from "../../functions/lib/cache/store.js";
import type { OutboundBody, Quota } from "../../functions/lib/protocol/outbound.js";
import type { ResponseRelay } from "../../functions/lib/relay/relay.js";
import { CACHE_TABLE } from "../../functions/lib/tables.js";
import { createTable, LOCAL_CREDENTIALS } from "../../local/dynamodb.js";

const NOVA = "us.amazon.nova-lite-v1:0";
const CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
// In the future: DynamoDB Local deletes rows whose TTL has passed.
const NOW = Date.parse("2031-06-01T08:00:00Z");
const NOW_S = NOW / 1000;
let clock = NOW;
let dynamodb: DynamoDBClient;

beforeAll(() => {
  dynamodb = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
});
afterAll(() => dynamodb?.destroy());

/** A fresh table per test: list() and syncConfigEntries() see the whole table. */
async function freshCache(): Promise<PreparedCache> {
  const tableName = `prepared-${randomUUID()}`;
  await createTable(dynamodb, CACHE_TABLE, tableName);
  return new PreparedCache({ dynamodb, tableName, now: () => clock });
}

const operatorEntry = (overrides: Partial<PreparedEntry> = {}): PreparedEntry => ({ prompt: "What are your hours?", response: "Nine to five.", source: "operator", ...overrides });

describe("prepared-response items", () => {
  it("are keyed by scope, model and normalized prompt, and carry every field an operator sees", () => {
    expect(entryItem({ prompt: "Hi there!", response: "Hello.", modelId: NOVA, source: "operator", createdAt: "2031-06-01T08:00:00.000Z", ttl: 123 })).toEqual({
      cache_key: cacheKey("Hi there!", NOVA),
      scope: PREPARED_SCOPE,
      model_id: NOVA,
      prompt: "Hi there!",
      normalized_prompt: "hi there",
      response: "Hello.",
      source: "operator",
      created_at: "2031-06-01T08:00:00.000Z",
      ttl: 123,
    });
  });

  it("answer on any model when no model is named, and leave out what is not set", () => {
    expect(entryItem({ prompt: "Hi", response: "Hello.", source: "config" })).toStrictEqual({
      cache_key: cacheKey("Hi", ANY_MODEL),
      scope: PREPARED_SCOPE,
      model_id: ANY_MODEL,
      prompt: "Hi",
      normalized_prompt: normalizePrompt("Hi"),
      response: "Hello.",
      source: "config",
    });
  });

  it("of the stack's config are marked as such", () => {
    const items = configEntryItems({ cache: { enabled: true, ttlDays: 7, prepared: [{ prompt: "A", response: "a" }, { prompt: "B", response: "b", modelId: NOVA }] } });
    expect(items.map((i) => [i.prompt, i.model_id, i.source])).toEqual([
      ["A", ANY_MODEL, "config"],
      ["B", NOVA, "config"],
    ]);
  });
});

describe("prepared-response table", () => {
  it("finds an entry by a prompt that differs in case, spacing and trailing punctuation", async () => {
    const cache = await freshCache();
    expect(await cache.put(operatorEntry())).toBe(cacheKey("What are your hours?"));
    expect(await cache.lookup("  what ARE your   hours ", NOVA)).toEqual(operatorEntry());
    expect(await cache.lookup("What are your opening hours?", NOVA)).toBeUndefined();
  });

  it("prefers the entry for the model asked over the one for any model, and falls back when it has expired", async () => {
    const cache = await freshCache();
    await cache.put(operatorEntry({ response: "any" }));
    await cache.put(operatorEntry({ response: "nova", modelId: NOVA, ttl: NOW_S + 60 }));
    expect((await cache.lookup("What are your hours?", NOVA))?.response).toBe("nova");
    expect((await cache.lookup("What are your hours?", CLAUDE))?.response).toBe("any");
    clock = NOW + 60_000;
    expect((await cache.lookup("What are your hours?", NOVA))?.response).toBe("any");
    clock = NOW;
  });

  it("misses from the second an entry's ttl names, not only when DynamoDB removes it", async () => {
    const cache = await freshCache();
    await cache.put(operatorEntry({ ttl: NOW_S + 10 }));
    clock = NOW + 9_000;
    expect(await cache.lookup("What are your hours?", NOVA)).toBeDefined();
    clock = NOW + 10_000;
    expect(await cache.lookup("What are your hours?", NOVA)).toBeUndefined();
    // get() is for operators: it still shows the expired entry.
    expect(await cache.get("What are your hours?")).toEqual(operatorEntry({ ttl: NOW_S + 10 }));
    clock = NOW;
  });

  it("gets and deletes exactly the (prompt, model) named, returning what was there", async () => {
    const cache = await freshCache();
    await cache.put(operatorEntry());
    await cache.put(operatorEntry({ modelId: NOVA, response: "nova", createdAt: "2031-06-01T07:00:00.000Z" }));
    expect(await cache.get("What are your hours?", NOVA)).toEqual(operatorEntry({ modelId: NOVA, response: "nova", createdAt: "2031-06-01T07:00:00.000Z" }));
    expect(await cache.get("What are your hours?", CLAUDE)).toBeUndefined();
    expect(await cache.delete("What are your hours?", NOVA)).toEqual(operatorEntry({ modelId: NOVA, response: "nova", createdAt: "2031-06-01T07:00:00.000Z" }));
    expect(await cache.delete("What are your hours?", NOVA)).toBeUndefined();
    // Read back with exactly the fields stored: no model, creation time or expiry that was not set.
    expect(await cache.get("What are your hours?")).toStrictEqual(operatorEntry());
    expect(await cache.delete("What are your hours?")).toStrictEqual(operatorEntry());
    expect(await cache.list()).toEqual([]);
  });

  it("lists every entry by prompt, then model (any model first), flagging expired ones", async () => {
    const cache = await freshCache();
    await cache.put(operatorEntry({ prompt: "beta", modelId: NOVA }));
    await cache.put(operatorEntry({ prompt: "beta" }));
    await cache.put(operatorEntry({ prompt: "Alpha", ttl: NOW_S - 1 }));
    await cache.put(operatorEntry({ prompt: "beta", modelId: CLAUDE, ttl: NOW_S + 1 }));
    await cache.put(operatorEntry({ prompt: "beta", modelId: "amazon.titan-text-express-v1" }));
    const listed = await cache.list();
    expect(listed.map((e) => [e.prompt, e.modelId ?? ANY_MODEL, e.expired])).toEqual([
      ["Alpha", ANY_MODEL, true],
      ["beta", ANY_MODEL, false],
      ["beta", "amazon.titan-text-express-v1", false],
      ["beta", NOVA, false],
      ["beta", CLAUDE, false],
    ]);
  });

  it("lists a table larger than one scan page (DynamoDB reads 1 MB a page)", async () => {
    const cache = await freshCache();
    for (let i = 0; i < 5; i++) await cache.put(operatorEntry({ prompt: `entry ${i}`, response: "r".repeat(300_000) }));
    expect((await cache.list()).map((e) => e.prompt)).toEqual(["entry 0", "entry 1", "entry 2", "entry 3", "entry 4"]);
  });

  it("makes the config entries exactly the stack's, leaving operator entries alone", async () => {
    const cache = await freshCache();
    await cache.put({ prompt: "Dropped", response: "old", source: "config" });
    await cache.put({ prompt: "Kept", response: "old answer", source: "config" });
    await cache.put(operatorEntry({ prompt: "Dropped", modelId: NOVA }));
    await cache.put({ prompt: "Dropped too", response: "old", modelId: CLAUDE, source: "config" });
    await cache.syncConfigEntries({ cache: { enabled: true, ttlDays: 7, prepared: [{ prompt: "Kept", response: "new answer" }, { prompt: "Added", response: "added", modelId: NOVA }] } });
    expect((await cache.list()).map(({ prompt, modelId, source, response }) => ({ prompt, modelId, source, response }))).toEqual([
      { prompt: "Added", modelId: NOVA, source: "config", response: "added" },
      { prompt: "Dropped", modelId: NOVA, source: "operator", response: "Nine to five." },
      { prompt: "Kept", modelId: undefined, source: "config", response: "new answer" },
    ]);
  });
});

describe("the cache's place in a turn", () => {
  const enabled = { config: { cache: { enabled: true, ttlDays: 7, prepared: [] } } };
  const disabled = { config: { cache: { enabled: false, ttlDays: 7, prepared: [] } } };

  function recordingLogger() {
    const warnings: { message: string; attributes: unknown }[] = [];
    const log = { warn: (message: string, attributes: unknown) => void warnings.push({ message, attributes }) } as unknown as Logger;
    return { log, warnings };
  }

  /** A PreparedCache stand-in that counts lookups and answers or fails as told. */
  function countingCache(answer: PreparedEntry | Error | undefined) {
    const lookups: [string, string][] = [];
    const cache = {
      lookup: async (prompt: string, modelId: string) => {
        lookups.push([prompt, modelId]);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    } as unknown as PreparedCache;
    return { cache, lookups };
  }

  it("starts no lookup and finds nothing when the cache is off", async () => {
    const { cache, lookups } = countingCache(operatorEntry());
    expect(startPreparedLookup({ cache, ...disabled }, "hi", NOVA)).toBeUndefined();
    const { log } = recordingLogger();
    expect(await findPreparedAnswer({ cache, ...disabled }, log, { message: "hi", firstTurn: true, modelId: NOVA })).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  it("uses the lookup started for the same model, and looks up again for another", async () => {
    const { cache, lookups } = countingCache(operatorEntry());
    const { log } = recordingLogger();
    const started = startPreparedLookup({ cache, ...enabled }, "hi", NOVA)!;
    expect(started.modelId).toBe(NOVA);
    expect(await findPreparedAnswer({ cache, ...enabled }, log, { message: "hi", firstTurn: true, modelId: NOVA }, started)).toEqual(operatorEntry());
    expect(lookups).toEqual([["hi", NOVA]]);
    // The tier routed to another model than the one the lookup was started for.
    expect(await findPreparedAnswer({ cache, ...enabled }, log, { message: "hi", firstTurn: true, modelId: CLAUDE }, started)).toEqual(operatorEntry());
    expect(lookups).toEqual([
      ["hi", NOVA],
      ["hi", CLAUDE],
    ]);
  });

  it("looks up without a started lookup, and not at all for a later turn", async () => {
    const { cache, lookups } = countingCache(undefined);
    const { log } = recordingLogger();
    expect(await findPreparedAnswer({ cache, ...enabled }, log, { message: "hi", firstTurn: true, modelId: NOVA })).toBeUndefined();
    expect(lookups).toEqual([["hi", NOVA]]);
    expect(await findPreparedAnswer({ cache, ...enabled }, log, { message: "hi", firstTurn: false, modelId: NOVA })).toBeUndefined();
    expect(lookups).toHaveLength(1);
  });

  it("takes a failed lookup, started or not, as a miss and logs only the error's name", async () => {
    const failure = new TypeError("connect ECONNREFUSED: secret");
    const { cache } = countingCache(failure);
    const { log, warnings } = recordingLogger();
    const started = startPreparedLookup({ cache, ...enabled }, "hi", NOVA)!;
    // A started lookup never rejects, even unawaited.
    expect(await started.result).toEqual({ error: failure });
    expect(await findPreparedAnswer({ cache, ...enabled }, log, { message: "hi", firstTurn: true, modelId: NOVA }, started)).toBeUndefined();
    expect(await findPreparedAnswer({ cache, ...enabled }, log, { message: "hi", firstTurn: true, modelId: NOVA })).toBeUndefined();
    expect(warnings).toEqual([
      { message: "prepared-response lookup failed; asking the model", attributes: { error_name: "TypeError" } },
      { message: "prepared-response lookup failed; asking the model", attributes: { error_name: "TypeError" } },
    ]);
  });
});

describe("a lookup that fails without an Error", () => {
  it("is a miss too, logged without an error name", async () => {
    const warnings: unknown[] = [];
    const log = { warn: (_message: string, attributes: unknown) => void warnings.push(attributes) } as unknown as Logger;
    const cache = { lookup: async () => Promise.reject(undefined) } as unknown as PreparedCache;
    const deps = { cache, config: { cache: { enabled: true, ttlDays: 7, prepared: [] } } };
    expect(await findPreparedAnswer(deps, log, { message: "hi", firstTurn: true, modelId: NOVA })).toBeUndefined();
    expect(warnings).toEqual([{ error_name: undefined }]);
  });
});

describe("a cache hit's answer", () => {
  function recordingRelay() {
    const events: OutboundBody[] = [];
    const relay = {
      send: (body: OutboundBody) => (events.push(body), true),
      delta: (conversationId: string, text: string) => void events.push({ type: "delta", conversationId, text }),
    } as unknown as ResponseRelay;
    return { relay, events };
  }

  it("is start, the text in deltas of 4,000 characters, and done: marked cached, costing no tokens", () => {
    const { relay, events } = recordingRelay();
    const text = "x".repeat(4000) + "y".repeat(4000) + "z";
    const quota = { tier: "default" } as unknown as Quota;
    relayCachedAnswer(relay, { conversationId: "c1", modelId: NOVA, text, startedAt: performance.now(), quota });
    expect(events.map((e) => e.type)).toEqual(["start", "delta", "delta", "delta", "done"]);
    expect(events[0]).toEqual({ type: "start", conversationId: "c1", modelId: NOVA, cached: true });
    expect(events.slice(1, 4).map((e) => (e as { text: string }).text)).toEqual(["x".repeat(4000), "y".repeat(4000), "z"]);
    const done = events[4] as Extract<OutboundBody, { type: "done" }>;
    expect(done).toMatchObject({ type: "done", conversationId: "c1", stopReason: "end_turn", cached: true, usage: { inputTokens: 0, outputTokens: 0 }, quota });
    expect(done.latencyMs.total).toBeGreaterThanOrEqual(done.latencyMs.firstToken!);
    expect(done.latencyMs.total).toBeLessThan(10_000);
    // Its usage is a copy: nothing downstream can change the shared zero.
    expect(done.usage).not.toBe(NO_TOKENS);
    expect(NO_TOKENS).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it("sends a text of exactly two chunks as two deltas, and no empty one", () => {
    const { relay, events } = recordingRelay();
    relayCachedAnswer(relay, { conversationId: "c1", modelId: NOVA, text: "a".repeat(8000), startedAt: performance.now() });
    expect(events.filter((e) => e.type === "delta").map((e) => (e as { text: string }).text.length)).toEqual([4000, 4000]);
  });

  it("has no quota when none was read, and its latency counts from when the turn started", () => {
    const { relay, events } = recordingRelay();
    relayCachedAnswer(relay, { conversationId: "c1", modelId: NOVA, text: "short", startedAt: performance.now() - 250 });
    const done = events.at(-1) as Extract<OutboundBody, { type: "done" }>;
    expect(done).not.toHaveProperty("quota");
    expect(done.latencyMs.firstToken).toBeGreaterThanOrEqual(250);
    expect(done.latencyMs.firstToken).toBeLessThan(10_000);
    expect(Number.isInteger(done.latencyMs.total)).toBe(true);
  });
});
