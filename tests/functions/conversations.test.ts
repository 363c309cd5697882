/**
 * Conversation history through the chat worker, against DynamoDB Local and the model server:
 * the model receives the stored turns (bounded), the actions list, read and delete, and no
 * user reaches another's conversation.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { fakeAnswer } from "../../local/bedrock/index.js";
import { devLikeConfig, MODEL_NOVA_LITE } from "../support/config-fixtures.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
let deps: WorkerDeps;
beforeAll(async () => {
  const base = devLikeConfig();
  // Long histories are what is tested here, not token limits: room for ~35 KB turns.
  const roomy = { daily: { inputTokens: 10_000_000, outputTokens: 1_000_000 }, monthly: { inputTokens: 100_000_000, outputTokens: 10_000_000 } };
  const tiers = { ...base.tiers, default: { ...base.tiers.default!, limits: roomy } };
  harness = await startWorkerHarness({ ...base, tiers, systemPrompt: "Be brief.", history: { maxTurns: 3, ttlDays: 30 }, maxInputChars: 40_000, relay: { flushIntervalMs: 10 } });
  deps = workerDeps(harness);
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const send = (sub: string, payload: Record<string, unknown>, using: WorkerDeps = deps) =>
  handleInboundPublish(using, inboundPublish(sub, [{ requestId: randomUUID(), ...payload }]));
const chat = (sub: string, conversationId: string, message: string, using?: WorkerDeps) =>
  send(sub, { action: "chat", conversationId, message }, using);
const lastOf = <T extends OutboundEvent["type"]>(sub: string, type: T) =>
  harness.outbound(sub).filter((e): e is Extract<OutboundEvent, { type: T }> => e.type === type).at(-1)!;
const answer = (message: string) => fakeAnswer(MODEL_NOVA_LITE, message, 24);
const sentMessages = () =>
  harness.bedrock.requests.at(-1)!.body!.messages.map((m) => ({ role: m.role, text: m.content.map((c) => c.text).join("") }));

describe("multi-turn conversations", () => {
  it("sends the stored turns to the model before the new message; the client sends only the new one", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    await chat(user, conversation, "First question");
    await chat(user, conversation, "Second question");
    expect(sentMessages()).toEqual([
      { role: "user", text: "First question" },
      { role: "assistant", text: answer("First question") },
      { role: "user", text: "Second question" },
    ]);
    // Another conversation of the same user starts empty.
    await chat(user, randomUUID(), "Unrelated");
    expect(sentMessages()).toEqual([{ role: "user", text: "Unrelated" }]);
  });

  it("sends at most history.maxTurns turns, dropping the oldest", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    for (const n of [1, 2, 3, 4, 5]) await chat(user, conversation, `Question ${n}`);
    const messages = sentMessages();
    expect(messages.filter((m) => m.role === "user").map((m) => m.text)).toEqual(["Question 2", "Question 3", "Question 4", "Question 5"]);
  });

  it("drops the oldest turns that do not fit the model's context window", async () => {
    const base = loadGatewayConfig();
    const small = workerDeps(harness, {
      config: { ...base, history: { maxTurns: 20, ttlDays: 30 }, models: base.models.map((m) => ({ ...m, contextTokens: 2_300 })) },
    });
    const user = randomUUID();
    const conversation = randomUUID();
    // Each turn costs ~350 tokens by the conservative count (1,000 chars / 3 + the answer).
    for (const n of [1, 2, 3, 4]) await chat(user, conversation, `Long question ${n} ${"x".repeat(1000)}`, small);
    await chat(user, conversation, "Short", small);
    const users = sentMessages().filter((m) => m.role === "user").map((m) => m.text.slice(0, 15));
    // 2,300 - 2,000 (maxTokens) leaves room for the new message and nothing older.
    expect(users).toEqual(["Short"]);

    const roomy = workerDeps(harness, {
      config: { ...base, history: { maxTurns: 20, ttlDays: 30 }, models: base.models.map((m) => ({ ...m, contextTokens: 2_700 })) },
    });
    await chat(user, conversation, "Short again", roomy);
    expect(sentMessages().filter((m) => m.role === "user").map((m) => m.text.slice(0, 15))).toEqual(["Long question 4", "Short", "Short again"]);
  });

  it("records nothing for a turn that failed, so the next turn's history stays whole", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    await chat(user, conversation, "Works");
    await chat(user, conversation, "Breaks [[fake:fault=midstream,after=2]]");
    expect(lastOf(user, "error")).toMatchObject({ code: "model_error" });
    await chat(user, conversation, "Works again");
    expect(sentMessages().map((m) => m.text)).toEqual(["Works", answer("Works"), "Works again"]);
  });

  it("forgets turns past history.ttlDays, by time, before DynamoDB's TTL removes them", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    await chat(user, conversation, "Old question");
    const later = Date.now() + 31 * 86_400_000;
    const future = workerDeps(harness, {
      conversations: new ConversationStore({ dynamodb: harness.dynamodb, tableName: harness.conversationsTable, ttlDays: 30, now: () => later }),
    });
    await chat(user, conversation, "New question", future);
    expect(sentMessages()).toEqual([{ role: "user", text: "New question" }]);
    await send(user, { action: "conversations" }, future);
    // The summary outlived its turns: the conversation starts over, titled by its new first message.
    expect(lastOf(user, "conversations").conversations.map((c) => c.title)).toEqual(["New question"]);
  });
});

describe("conversations, history and deleteConversation", () => {
  it("lists the caller's conversations newest first, titled by their first message, a page at a time", async () => {
    const user = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = randomUUID();
      ids.push(id);
      await chat(user, id, `Topic number ${i}:   with   spaces`);
    }
    await chat(user, ids[0]!, "A follow-up moves the first conversation to the top");
    await send(user, { action: "conversations" });
    const first = lastOf(user, "conversations");
    expect(first.conversations).toHaveLength(20);
    expect(first.conversations[0]).toMatchObject({ conversationId: ids[0], title: "Topic number 0: with spaces" });
    expect(first.conversations[1]!.conversationId).toBe(ids[22]);
    expect(first.nextCursor).toBeTypeOf("string");

    await send(user, { action: "conversations", cursor: first.nextCursor });
    const second = lastOf(user, "conversations");
    expect(second.conversations.map((c) => c.conversationId)).toEqual([ids[3], ids[2], ids[1]]);
    const all = [...first.conversations, ...second.conversations].map((c) => c.conversationId);
    expect(new Set(all).size).toBe(23);
  });

  it("returns a conversation's turns in order, with the answers as streamed", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    await chat(user, conversation, "One");
    await chat(user, conversation, "Two");
    await send(user, { action: "history", conversationId: conversation });
    const history = lastOf(user, "history");
    expect(history.conversationId).toBe(conversation);
    // Nothing else: an answer that ran to its end carries no flag (cancelled, cached, truncated).
    expect(history.turns.map(({ at: _at, ...entry }) => entry)).toEqual([
      { role: "user", text: "One" },
      { role: "assistant", text: answer("One") },
      { role: "user", text: "Two" },
      { role: "assistant", text: answer("Two") },
    ]);
    expect(Date.parse(history.turns[0]!.at)).toBeLessThanOrEqual(Date.parse(history.turns[2]!.at));
    expect(history.nextCursor).toBeUndefined();
  });

  it("pages a long history from the newest turns back, each page within one event", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    const big = "word ".repeat(7_000); // ~35 KB of message per turn
    for (let i = 0; i < 7; i++) await chat(user, conversation, `${i} ${big}`);
    await send(user, { action: "history", conversationId: conversation });
    const newest = lastOf(user, "history");
    expect(Buffer.byteLength(JSON.stringify(newest))).toBeLessThan(200_000);
    const newestUsers = newest.turns.filter((t) => t.role === "user").map((t) => t.text[0]);
    expect(newestUsers.at(-1)).toBe("6");
    expect(newest.nextCursor).toBeTypeOf("string");
    await send(user, { action: "history", conversationId: conversation, cursor: newest.nextCursor });
    const older = lastOf(user, "history");
    const olderUsers = older.turns.filter((t) => t.role === "user").map((t) => t.text[0]);
    expect([...olderUsers, ...newestUsers]).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
  });

  it("refuses a cursor that is not one of the listing's", async () => {
    const user = randomUUID();
    await send(user, { action: "conversations", cursor: Buffer.from(JSON.stringify({ sk: "turn#x" })).toString("base64url") });
    expect(lastOf(user, "error")).toMatchObject({ code: "invalid_request", details: { fields: [{ field: "cursor" }] } });
  });

  it("deletes a conversation: its turns and its listing", async () => {
    const user = randomUUID();
    const conversation = randomUUID();
    const kept = randomUUID();
    await chat(user, conversation, "Delete me");
    await chat(user, conversation, "Me too");
    await chat(user, kept, "Keep me");
    await send(user, { action: "deleteConversation", conversationId: conversation });
    expect(lastOf(user, "deleteConversation")).toMatchObject({ conversationId: conversation, deleted: true });
    await send(user, { action: "history", conversationId: conversation });
    expect(lastOf(user, "history").turns).toEqual([]);
    await send(user, { action: "conversations" });
    expect(lastOf(user, "conversations").conversations.map((c) => c.conversationId)).toEqual([kept]);
    // A new turn in the deleted conversation starts without the deleted history.
    await chat(user, conversation, "Fresh start");
    expect(sentMessages()).toEqual([{ role: "user", text: "Fresh start" }]);
  });

  it("shows another user's conversation as empty and deletes none of it", async () => {
    const owner = randomUUID();
    const intruder = randomUUID();
    const conversation = randomUUID();
    await chat(owner, conversation, "Private matter");
    await send(intruder, { action: "history", conversationId: conversation });
    expect(lastOf(intruder, "history")).toMatchObject({ conversationId: conversation, turns: [] });
    await send(intruder, { action: "conversations" });
    expect(lastOf(intruder, "conversations").conversations).toEqual([]);
    await send(intruder, { action: "deleteConversation", conversationId: conversation });
    expect(lastOf(intruder, "deleteConversation")).toMatchObject({ deleted: false });
    // The intruder's chat in that conversation id starts empty, too.
    await chat(intruder, conversation, "Continue that");
    expect(sentMessages()).toEqual([{ role: "user", text: "Continue that" }]);
    await send(owner, { action: "history", conversationId: conversation });
    expect(lastOf(owner, "history").turns.map((t) => t.text)).toEqual(["Private matter", answer("Private matter")]);
  });

  it("requires a conversationId for history and deleteConversation", async () => {
    const user = randomUUID();
    await send(user, { action: "history" });
    expect(lastOf(user, "error")).toMatchObject({ code: "invalid_request", details: { fields: [{ field: "conversationId" }] } });
  });
});
