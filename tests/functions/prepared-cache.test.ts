/**
 * The prepared-response cache in the chat worker, against DynamoDB Local: hits answer without
 * the model and cost nothing, only first turns are looked up, keys normalize prompts, expired
 * entries miss, and `cache.enabled: false` turns lookups off.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ANY_MODEL, cacheKey, normalizePrompt } from "../../functions/lib/cache/key.js";
import { configEntryItems, PreparedCache } from "../../functions/lib/cache/store.js";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO } from "../support/config-fixtures.js";
import { emfWhile } from "../support/emf.js";
import { printedWhile, withMessage } from "../support/stdout.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
let deps: WorkerDeps;
let cache: PreparedCache;
const PRICING = "Our plans start at 10 USD a month; the Pro plan adds every model.";
const NOVA_PRO_ONLY = "Nova Pro answers this one itself.";

beforeAll(async () => {
  harness = await startWorkerHarness({ ...devLikeConfig(), relay: { flushIntervalMs: 10 } });
  deps = workerDeps(harness);
  cache = deps.cache;
  await cache.put({ prompt: "What does the gateway cost?", response: PRICING, source: "config" });
  await cache.put({ prompt: "Which model is this?", response: NOVA_PRO_ONLY, modelId: MODEL_NOVA_PRO, source: "config" });
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const chat = (sub: string, message: string, extra: Record<string, unknown> = {}, using = deps) => {
  const request = { requestId: randomUUID(), conversationId: randomUUID(), message, ...extra };
  return handleInboundPublish(using, inboundPublish(sub, [request])).then(() => harness.outbound(sub).filter((e) => e.requestId === request.requestId));
};
const textOf = (events: { type: string; text?: string }[]) => events.map((e) => (e.type === "delta" ? e.text : "")).join("");

describe("prepared-response keys", () => {
  it("normalize case, surrounding and repeated whitespace and trailing .?! only", () => {
    expect(normalizePrompt("  What   does\tthe Gateway\nCOST?!  ")).toBe("what does the gateway cost");
    expect(normalizePrompt("Is 3.5 > 3?")).toBe("is 3.5 > 3");
    expect(cacheKey("What does the gateway cost?")).toBe(cacheKey("what does the gateway cost"));
    expect(cacheKey("What does the gateway cost?")).not.toBe(cacheKey("What does a gateway cost?"));
    expect(cacheKey("hello", MODEL_NOVA_LITE)).not.toBe(cacheKey("hello", ANY_MODEL));
    expect(cacheKey("hello")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("drop the space left before stripped punctuation, so \"Hello ?\" finds the entry for \"hello\"", () => {
    expect(normalizePrompt("Hello ?")).toBe("hello");
    expect(normalizePrompt("  thanks !! ")).toBe("thanks");
    expect(cacheKey("Hello ?")).toBe(cacheKey("hello"));
  });

  it("stay the same across releases: sha256 of scope, model and normalized prompt, one per line", () => {
    // Entries already in the table were written under this key; a changed derivation would orphan them.
    expect(cacheKey("What does the gateway cost?")).toBe("3441b3751f3124e83e499f0a9c02ed7ba34e1b752a97a1a3db0740cc0bcddf39");
  });

  it("are the same for the stack's entries as for lookups (the program writes them)", () => {
    const config = loadGatewayConfig();
    const [item] = configEntryItems({ ...config, cache: { ...config.cache, prepared: [{ prompt: "Hi there!", response: "Hello." }] } });
    expect(item).toEqual({
      cache_key: cacheKey("hi there"),
      scope: "prepared",
      model_id: "any",
      prompt: "Hi there!",
      normalized_prompt: "hi there",
      response: "Hello.",
      source: "config",
    });
  });
});

describe("prepared responses in the chat worker", () => {
  it("answers a first turn from the cache: start/delta/done marked cached, no model call, no tokens", async () => {
    const user = randomUUID();
    const events = await chat(user, "  what DOES the gateway   cost ");
    expect(harness.bedrock.requests).toHaveLength(0);
    expect(events[0]).toMatchObject({ type: "start", cached: true, modelId: MODEL_NOVA_LITE, seq: 0 });
    expect(textOf(events)).toBe(PRICING);
    expect(events.at(-1)).toMatchObject({ type: "done", stopReason: "end_turn", cached: true, usage: { inputTokens: 0, outputTokens: 0 } });
  });

  it("counts each hit in the CacheHits metric, per model, and no token metrics", async () => {
    const emf = await emfWhile(() => chat(randomUUID(), "What does the gateway cost"));
    expect(emf).toContainEqual(expect.objectContaining({ CacheHits: 1, ModelId: MODEL_NOVA_LITE }));
    expect(emf.some((line) => "InputTokens" in line || "OutputTokens" in line)).toBe(false);
  });

  it("records a cached answer in history like any turn, and the next turn goes to the model with it", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    await chat(user, "What does the gateway cost?", { conversationId });
    await handleInboundPublish(deps, inboundPublish(user, [{ action: "history", requestId: randomUUID(), conversationId }]));
    expect(harness.outbound(user).at(-1)).toMatchObject({
      type: "history",
      turns: [
        { role: "user", text: "What does the gateway cost?" },
        { role: "assistant", text: PRICING, cached: true },
      ],
    });
    // Only a conversation's first turn is looked up: the same question later goes to the model.
    const again = await chat(user, "What does the gateway cost?", { conversationId });
    expect(again[0]).toMatchObject({ type: "start", cached: false });
    expect(harness.bedrock.requests).toHaveLength(1);
    expect(harness.bedrock.requests[0]!.body!.messages.map((m) => m.content[0]!.text)).toEqual([
      "What does the gateway cost?",
      PRICING,
      "What does the gateway cost?",
    ]);
  });

  it("answers the first turn of a conversation whose turns expired, titles the conversation by it, and logs the hit", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    await chat(user, "An old question", { conversationId });
    // A month on, the old turns have expired: the cache answers the conversation's new first turn.
    const later = Date.now() + 31 * 86_400_000;
    const conversations = new ConversationStore({ dynamodb: harness.dynamodb, tableName: harness.conversationsTable, ttlDays: 30, now: () => later });
    const future = { ...deps, conversations, logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }) };
    let events: Awaited<ReturnType<typeof chat>> = [];
    const { logs } = await printedWhile(async () => (events = await chat(user, "What does the gateway cost?", { conversationId }, future)));
    expect(events[0]).toMatchObject({ type: "start", cached: true });
    expect(withMessage(logs, "answered from the prepared-response cache")).toEqual([expect.objectContaining({ level: "INFO", model_id: MODEL_NOVA_LITE })]);
    expect(await conversations.recentTurns(user, conversationId, 10)).toEqual([expect.objectContaining({ assistantText: PRICING, cached: true, stopReason: "end_turn" })]);
    await handleInboundPublish(future, inboundPublish(user, [{ action: "conversations", requestId: randomUUID() }]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "conversations", conversations: [{ conversationId, title: "What does the gateway cost?" }] });
  });

  it("serves a model-specific entry only on that model, and misses otherwise", async () => {
    const user = randomUUID();
    const onPro = await chat(user, "Which model is this", { modelId: MODEL_NOVA_PRO });
    expect(textOf(onPro)).toBe(NOVA_PRO_ONLY);
    const onLite = await chat(user, "Which model is this");
    expect(onLite[0]).toMatchObject({ type: "start", cached: false });
    expect(harness.bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE]);
  });

  it("misses on a prompt that differs in more than case, spacing or trailing punctuation", async () => {
    const events = await chat(randomUUID(), "What does the gateway cost per user?");
    expect(events[0]).toMatchObject({ cached: false });
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("misses on an operator entry past its ttl, checked by time before DynamoDB removes it", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    await cache.put({ prompt: "Expired question", response: "stale", source: "operator", createdAt: new Date().toISOString(), ttl: past });
    await cache.put({ prompt: "Fresh question", response: "fresh answer", source: "operator", createdAt: new Date().toISOString(), ttl: past + 3600 });
    expect((await chat(randomUUID(), "Expired question"))[0]).toMatchObject({ cached: false });
    expect(textOf(await chat(randomUUID(), "Fresh question"))).toBe("fresh answer");
  });

  it("looks nothing up when cache.enabled is false", async () => {
    const base = loadGatewayConfig();
    const off = workerDeps(harness, { config: { ...base, cache: { ...base.cache, enabled: false } } });
    const events = await chat(randomUUID(), "What does the gateway cost?", {}, off);
    expect(events[0]).toMatchObject({ cached: false });
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("never stores what users ask or get: the table holds only the entries put in it", async () => {
    const before = (await cache.list()).length;
    await chat(randomUUID(), "Something nobody prepared");
    await chat(randomUUID(), "Something nobody prepared");
    expect(harness.bedrock.requests).toHaveLength(2);
    expect((await cache.list()).length).toBe(before);
  });

  it("treats a failed lookup as a miss and still answers", async () => {
    const broken = workerDeps(harness, { cache: new PreparedCache({ dynamodb: harness.dynamodb, tableName: "no-such-table" }) });
    const events = await chat(randomUUID(), "What does the gateway cost?", {}, broken);
    expect(events.at(-1)).toMatchObject({ type: "done", cached: false, stopReason: "end_turn" });
  });
});
