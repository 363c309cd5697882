/**
 * The conversation store and its actions against DynamoDB Local with the real SDK, on a clock
 * the tests move: the rows a turn writes, the summary's title and count, expiry by time, the
 * cursors of both listings, deletes that span pages and batches, and the history event's
 * size budget. conversations.test.ts covers the same through the chat worker.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { conversationHistory, deleteConversation, HISTORY_EVENT_BUDGET_BYTES, listConversations } from "../../functions/lib/conversations/actions.js";
import { decodeCursor, encodeCursor } from "../../functions/lib/conversations/cursor.js";
import { loadHistory, recordTurn } from "../../functions/lib/conversations/turn.js";
import { summaryKey, turnKey } from "../../functions/lib/conversations/keys.js";
import {
  boundTurnText,
  ConversationStore,
  CONVERSATIONS_PAGE,
  MAX_TURN_TEXT_BYTES,
  titleOf,
  truncateUtf8,
  type StoredTurn,
} from "../../functions/lib/conversations/store.js";
import type { OutboundBody } from "../../functions/lib/protocol/outbound.js";
import { CONVERSATIONS_TABLE } from "../../functions/lib/tables.js";
import { createTable, LOCAL_CREDENTIALS } from "../../local/dynamodb.js";

const DAY = 86_400_000;
// In the future: DynamoDB Local deletes rows whose TTL has passed.
const START = Date.parse("2031-02-03T10:00:00Z");
let clock = START;
let dynamodb: DynamoDBClient;
let db: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  dynamodb = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
  db = DynamoDBDocumentClient.from(dynamodb);
  tableName = `conversations-${randomUUID()}`;
  await createTable(dynamodb, CONVERSATIONS_TABLE, tableName);
});
afterAll(() => dynamodb?.destroy());

const store = (ttlDays = 30) => new ConversationStore({ dynamodb, tableName, ttlDays, now: () => clock });

let sequence = 0;
function turn(overrides: Partial<StoredTurn> = {}): StoredTurn {
  sequence++;
  return {
    requestId: `request-${String(sequence).padStart(4, "0")}`,
    at: new Date(START + sequence * 1000).toISOString(),
    userText: `question ${sequence}`,
    assistantText: `answer ${sequence}`,
    modelId: "us.amazon.nova-lite-v1:0",
    stopReason: "end_turn",
    ...overrides,
  };
}

const item = async (userId: string, sk: string) => (await db.send(new GetCommand({ TableName: tableName, Key: { user_id: userId, sk } }))).Item;

async function rowsOf(userId: string): Promise<string[]> {
  const result = await db.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: "user_id = :u", ExpressionAttributeValues: { ":u": userId } }));
  return (result.Items ?? []).map((i) => i.sk as string).sort();
}

describe("conversation store: writing a turn", () => {
  it("writes the turn's row with its texts, model, stop reason and expiry, and no flag that is not set", async () => {
    const user = randomUUID();
    const t = turn();
    await store(30).appendTurn(user, "c1", t, true);
    expect(await item(user, turnKey("c1", t.at, t.requestId))).toEqual({
      user_id: user,
      sk: turnKey("c1", t.at, t.requestId),
      request_id: t.requestId,
      at: t.at,
      user_text: t.userText,
      assistant_text: t.assistantText,
      model_id: t.modelId,
      stop_reason: "end_turn",
      ttl: Math.floor(clock / 1000) + 30 * 86_400,
    });
  });

  it("stores the cached, cancelled and truncated flags and reads them back", async () => {
    const user = randomUUID();
    const t = turn({ cached: true, cancelled: true, truncated: true });
    await store().appendTurn(user, "c1", t, true);
    expect(await item(user, turnKey("c1", t.at, t.requestId))).toMatchObject({ cached: true, cancelled: true, truncated: true });
    expect(await store().recentTurns(user, "c1", 5)).toEqual([t]);
  });

  it("titles the summary by the first message and keeps that title and creation time; counts the turns", async () => {
    const user = randomUUID();
    const first = turn({ userText: "  What is\n\tthe  weather? " });
    await store().appendTurn(user, "c1", first, true);
    const created = new Date(clock).toISOString();
    clock += 60_000;
    await store().appendTurn(user, "c1", turn({ userText: "And tomorrow?" }));
    expect(await item(user, summaryKey("c1"))).toEqual({
      user_id: user,
      sk: summaryKey("c1"),
      conversation_id: "c1",
      title: "What is the weather?",
      created_at: created,
      updated_at: new Date(clock).toISOString(),
      ttl: Math.floor(clock / 1000) + 30 * 86_400,
      turn_count: 2,
    });
    clock = START;
  });

  it("retitles and restarts a summary that outlived its turns when a turn starts the conversation again", async () => {
    const user = randomUUID();
    await store().appendTurn(user, "c1", turn({ userText: "Old subject" }), true);
    await store().appendTurn(user, "c1", turn());
    clock += 5_000;
    await store().appendTurn(user, "c1", turn({ userText: "New subject" }), true);
    expect(await item(user, summaryKey("c1"))).toMatchObject({ title: "New subject", turn_count: 1, created_at: new Date(clock).toISOString() });
    clock = START;
  });

  it("reads an item without an answer as an empty answer", async () => {
    const user = randomUUID();
    await db.send(
      new PutCommand({
        TableName: tableName,
        Item: { user_id: user, sk: turnKey("c1", "2031-02-03T10:00:00.000Z", "r"), request_id: "r", at: "2031-02-03T10:00:00.000Z", user_text: "hi", model_id: "m", stop_reason: "end_turn" },
      }),
    );
    expect(await store().recentTurns(user, "c1", 5)).toEqual([{ requestId: "r", at: "2031-02-03T10:00:00.000Z", userText: "hi", assistantText: "", modelId: "m", stopReason: "end_turn" }]);
  });
});

describe("conversation store: reading turns", () => {
  it("returns the newest `limit` turns oldest first, of that conversation only (not one whose id extends it)", async () => {
    const user = randomUUID();
    const turns = [turn(), turn(), turn(), turn()];
    for (const t of turns) await store().appendTurn(user, "c1", t);
    await store().appendTurn(user, "c10", turn());
    expect(await store().recentTurns(user, "c1", 3)).toEqual(turns.slice(1));
    expect(await store().recentTurns(user, "c1", 10)).toEqual(turns);
  });

  it("leaves out turns past their expiry by time, from the second their ttl names", async () => {
    const user = randomUUID();
    const old = turn();
    await store(1).appendTurn(user, "c1", old);
    clock += 2 * DAY;
    const fresh = turn();
    await store(1).appendTurn(user, "c1", fresh);
    expect(await store(1).recentTurns(user, "c1", 10)).toEqual([fresh]);
    // Exactly at the first turn's ttl it is gone; a second before, it is not.
    clock = START + DAY - 1000;
    expect((await store(1).recentTurns(user, "c1", 10)).map((t) => t.requestId)).toEqual([old.requestId, fresh.requestId]);
    clock = START + DAY;
    expect((await store(1).recentTurns(user, "c1", 10)).map((t) => t.requestId)).toEqual([fresh.requestId]);
    clock = START;
  });

  it("pages turns newest page first, each page in order, with a cursor to older turns and none after the last", async () => {
    const user = randomUUID();
    const turns = Array.from({ length: 5 }, () => turn());
    for (const t of turns) await store().appendTurn(user, "c1", t);
    const first = await store().turnsPage(user, "c1", { limit: 2 });
    expect(first.turns).toEqual(turns.slice(3));
    expect(decodeCursor(first.nextCursor!, "turn#c1#")).toEqual({ sk: turnKey("c1", turns[3]!.at, turns[3]!.requestId) });
    const second = await store().turnsPage(user, "c1", { limit: 2, cursor: first.nextCursor });
    expect(second.turns).toEqual(turns.slice(1, 3));
    const third = await store().turnsPage(user, "c1", { limit: 2, cursor: second.nextCursor });
    expect(third.turns).toEqual(turns.slice(0, 1));
    expect(third.nextCursor).toBeUndefined();
  });

  it("continues after a given turn with cursorAfter", async () => {
    const user = randomUUID();
    const turns = [turn(), turn(), turn()];
    for (const t of turns) await store().appendTurn(user, "c1", t);
    const page = await store().turnsPage(user, "c1", { limit: 10, cursor: store().cursorAfter("c1", turns[2]!) });
    expect(page.turns).toEqual(turns.slice(0, 2));
  });

  it("refuses a turns cursor of another conversation or of the conversation listing", async () => {
    const user = randomUUID();
    for (const cursor of [encodeCursor({ sk: "turn#c2#x" }), encodeCursor({ sk: "conv#c1", updatedAt: "2031-01-01T00:00:00.000Z" }), "not base64 json"]) {
      await expect(store().turnsPage(user, "c1", { limit: 2, cursor })).rejects.toMatchObject({ code: "invalid_request" });
    }
  });
});

describe("conversation store: listing conversations", () => {
  it("lists newest first, a page of CONVERSATIONS_PAGE at a time, with a cursor only while more remain", async () => {
    const user = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < CONVERSATIONS_PAGE + 3; i++) {
      ids.push(`c${String(i).padStart(2, "0")}`);
      clock += 1000;
      await store().appendTurn(user, ids.at(-1)!, turn({ userText: `Subject ${i}` }), true);
    }
    const first = await store().list(user);
    expect(first.conversations.map((c) => c.conversationId)).toEqual(ids.slice().reverse().slice(0, CONVERSATIONS_PAGE));
    expect(first.conversations[0]).toEqual({ conversationId: ids.at(-1), title: `Subject ${CONVERSATIONS_PAGE + 2}`, updatedAt: new Date(clock).toISOString() });
    expect(first.nextCursor).toBeTypeOf("string");
    const second = await store().list(user, first.nextCursor);
    expect(second.conversations.map((c) => c.conversationId)).toEqual(ids.slice(0, 3).reverse());
    expect(second.nextCursor).toBeUndefined();
    // The listing's answer is the same through the action.
    expect(await listConversations(store(), user, first.nextCursor)).toEqual({ type: "conversations", conversations: second.conversations });
    expect(await listConversations(store(), user)).toMatchObject({ type: "conversations", nextCursor: first.nextCursor });
    clock = START;
  });

  it("leaves out conversations past their expiry", async () => {
    const user = randomUUID();
    await store(1).appendTurn(user, "old", turn(), true);
    clock += 2 * DAY;
    await store(1).appendTurn(user, "new", turn(), true);
    expect((await store(1).list(user)).conversations.map((c) => c.conversationId)).toEqual(["new"]);
    clock = START;
  });

  it("refuses a listing cursor without its index position, or of the turns", async () => {
    const user = randomUUID();
    for (const cursor of [encodeCursor({ sk: "conv#c1" }), encodeCursor({ sk: "turn#c1#x" }), encodeCursor({ sk: "conv#c1", updatedAt: "x".repeat(41) })]) {
      await expect(store().list(user, cursor)).rejects.toMatchObject({ code: "invalid_request", extra: { details: { fields: [{ field: "cursor" }] } } });
    }
  });
});

describe("conversation store: deleting", () => {
  it("deletes every turn across batches of 25 and the summary, and only that conversation's", async () => {
    const user = randomUUID();
    for (let i = 0; i < 60; i++) await store().appendTurn(user, "c1", turn(), i === 0);
    await store().appendTurn(user, "c10", turn(), true);
    expect(await deleteConversation(store(), user, "c1")).toEqual({ type: "deleteConversation", conversationId: "c1", deleted: true });
    expect(await rowsOf(user)).toEqual([summaryKey("c10"), expect.stringMatching(/^turn#c10#/)]);
    expect(await deleteConversation(store(), user, "c1")).toEqual({ type: "deleteConversation", conversationId: "c1", deleted: false });
  });

  it("deletes again what DynamoDB left unprocessed, and gives up after nine tries", async () => {
    const user = randomUUID();
    for (let i = 0; i < 30; i++) await store().appendTurn(user, "c1", turn(), i === 0);
    let leaveOut = 2;
    const batches: number[] = [];
    const flaky = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "BatchWriteItemCommand") {
          const requests = (args.input as { RequestItems: Record<string, unknown[]> }).RequestItems[tableName]!;
          batches.push(requests.length);
          // Report the first three as unprocessed (they were deleted; deleting again is harmless).
          if (leaveOut-- > 0) (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [tableName]: requests.slice(0, 3) };
        }
        return result;
      },
      { step: "initialize", name: "leaveUnprocessed" },
    );
    try {
      const flakyStore = new ConversationStore({ dynamodb: flaky, tableName, ttlDays: 30, now: () => clock });
      expect(await flakyStore.delete(user, "c1")).toBe(30);
      // 25, then its 3 left over twice, then the last 5, then the summary.
      expect(batches).toEqual([25, 3, 3, 5, 1]);
      expect(await rowsOf(user)).toEqual([]);
      await store().appendTurn(user, "c1", turn(), true);
      leaveOut = Infinity;
      batches.length = 0;
      await expect(flakyStore.delete(user, "c1")).rejects.toThrow("DynamoDB left deletes unprocessed");
      expect(batches).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    } finally {
      flaky.destroy();
    }
  }, 30_000);

  it("deletes turns that span more than one query page (DynamoDB reads 1 MB a page)", async () => {
    const user = randomUUID();
    const big = "a".repeat(300_000);
    for (let i = 0; i < 5; i++) await store().appendTurn(user, "c1", turn({ assistantText: big }), i === 0);
    expect(await store().delete(user, "c1")).toBe(5);
    expect(await rowsOf(user)).toEqual([]);
  });

  it("deletes nothing of another user's conversation of the same id", async () => {
    const owner = randomUUID();
    await store().appendTurn(owner, "c1", turn(), true);
    expect(await store().delete(randomUUID(), "c1")).toBe(0);
    expect(await rowsOf(owner)).toHaveLength(2);
  });
});

describe("history events within AppSync's event size", () => {
  const history = (userId: string, cursor?: string) => conversationHistory(store(), userId, "c1", cursor) as Promise<Extract<OutboundBody, { type: "history" }>>;

  it("sends each turn as the user's message and the answer, with the answer's flags", async () => {
    const user = randomUUID();
    const plain = turn();
    const flagged = turn({ cached: true, cancelled: true, truncated: true });
    await store().appendTurn(user, "c1", plain, true);
    await store().appendTurn(user, "c1", flagged);
    expect(await history(user)).toEqual({
      type: "history",
      conversationId: "c1",
      turns: [
        { role: "user", text: plain.userText, at: plain.at },
        { role: "assistant", text: plain.assistantText, at: plain.at },
        { role: "user", text: flagged.userText, at: flagged.at },
        { role: "assistant", text: flagged.assistantText, at: flagged.at, cached: true, cancelled: true, truncated: true },
      ],
    });
  });

  it("keeps the newest turns that fit one event and points the cursor at the oldest one kept", async () => {
    const user = randomUUID();
    const turns = Array.from({ length: 4 }, () => turn({ assistantText: "b".repeat(70_000) }));
    for (const t of turns) await store().appendTurn(user, "c1", t);
    const newest = await history(user);
    expect(newest.turns.filter((t) => t.role === "user").map((t) => t.text)).toEqual([turns[2]!.userText, turns[3]!.userText]);
    expect(Buffer.byteLength(JSON.stringify(newest.turns))).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET_BYTES);
    expect(newest.nextCursor).toBe(store().cursorAfter("c1", turns[2]!));
    const older = await history(user, newest.nextCursor);
    expect(older.turns.filter((t) => t.role === "user").map((t) => t.text)).toEqual([turns[0]!.userText, turns[1]!.userText]);
    expect(older.nextCursor).toBeUndefined();
  });

  it("sends the beginning of a turn larger than one event, marked truncated, and older turns only as they fit beside it", async () => {
    const user = randomUUID();
    const small = turn();
    const huge = turn({ userText: "u".repeat(20_000), assistantText: "h".repeat(300_000) });
    await store().appendTurn(user, "c1", small, true);
    await store().appendTurn(user, "c1", huge);
    const page = await history(user);
    const [question, answer] = page.turns.slice(-2);
    expect(question).toEqual({ role: "user", text: huge.userText, at: huge.at });
    expect(answer).toMatchObject({ role: "assistant", at: huge.at, truncated: true });
    expect(huge.assistantText.startsWith(answer!.text)).toBe(true);
    // Halved until it fits: the longer text was cut, the shorter one left whole.
    expect(answer!.text.length).toBeLessThan(HISTORY_EVENT_BUDGET_BYTES);
    expect(answer!.text.length).toBeGreaterThan(HISTORY_EVENT_BUDGET_BYTES / 4);
    expect(Buffer.byteLength(JSON.stringify(page.turns))).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET_BYTES);
    // The small turn (a few hundred bytes) fits beside it.
    expect(page.turns.slice(0, 2).map((t) => t.text)).toEqual([small.userText, small.assistantText]);
    expect(page.nextCursor).toBeUndefined();
  });

  it("sends a turn whose entries fill the budget exactly, whole", async () => {
    const user = randomUUID();
    const t = turn({ userText: "question" });
    const frame = Buffer.byteLength(JSON.stringify([{ role: "user", text: t.userText, at: t.at }, { role: "assistant", text: "", at: t.at }]));
    const exact = turn({ ...t, assistantText: "e".repeat(HISTORY_EVENT_BUDGET_BYTES - frame) });
    await store().appendTurn(user, "c1", exact, true);
    const page = await history(user);
    expect(Buffer.byteLength(JSON.stringify(page.turns))).toBe(HISTORY_EVENT_BUDGET_BYTES);
    expect(page.turns[1]).toEqual({ role: "assistant", text: exact.assistantText, at: exact.at });
  });

  it("cuts the message first when the two texts are equally long and one cut is enough", async () => {
    const user = randomUUID();
    const even = turn({ userText: "u".repeat(95_000), assistantText: "a".repeat(95_000) });
    await store().appendTurn(user, "c1", even, true);
    const [question, answer] = (await history(user)).turns;
    expect(question).toMatchObject({ text: "u".repeat(47_500), truncated: true });
    expect(answer).toEqual({ role: "assistant", text: even.assistantText, at: even.at });
  });

  it("clips the user's message too when it alone is the longer text", async () => {
    const user = randomUUID();
    const huge = turn({ userText: "u".repeat(170_000), assistantText: "h".repeat(170_000) });
    await store().appendTurn(user, "c1", huge, true);
    const page = await history(user);
    const [question, answer] = page.turns;
    expect(question!.text.length + answer!.text.length).toBeLessThan(HISTORY_EVENT_BUDGET_BYTES);
    expect(question!.text.length).toBeGreaterThan(HISTORY_EVENT_BUDGET_BYTES / 4);
    expect(answer!.text.length).toBeGreaterThan(HISTORY_EVENT_BUDGET_BYTES / 4);
    expect(answer).toMatchObject({ truncated: true });
  });
});

describe("history around a chat turn", () => {
  function recordingLogger() {
    const errors: { message: string; attributes: unknown }[] = [];
    return { log: { error: (message: string, attributes: unknown) => void errors.push({ message, attributes }) } as unknown as Logger, errors };
  }

  it("loads the newest history.maxTurns turns of the caller's conversation", async () => {
    const user = randomUUID();
    const turns = [turn(), turn(), turn()];
    for (const t of turns) await store().appendTurn(user, "c1", t);
    expect(await loadHistory({ conversations: store(), config: { history: { maxTurns: 2, ttlDays: 30 } } }, user, "c1")).toEqual(turns.slice(1));
  });

  it("records an ended turn, retitling when it starts the conversation", async () => {
    const user = randomUUID();
    const { log, errors } = recordingLogger();
    await recordTurn({ conversations: store() }, log, user, "c1", turn({ userText: "First" }), true);
    await recordTurn({ conversations: store() }, log, user, "c1", turn({ userText: "Second" }), false);
    await recordTurn({ conversations: store() }, log, user, "c1", turn({ userText: "Third", stopReason: "cancelled", cancelled: true }), true);
    expect((await store().recentTurns(user, "c1", 10)).map((t) => t.userText)).toEqual(["First", "Second", "Third"]);
    expect(await item(user, summaryKey("c1"))).toMatchObject({ title: "Third", turn_count: 1 });
    expect(errors).toEqual([]);
  });

  it("records nothing of a turn the user never received (relay failed)", async () => {
    const user = randomUUID();
    const { log } = recordingLogger();
    await recordTurn({ conversations: store() }, log, user, "c1", turn({ stopReason: "relay_failed" }), true);
    expect(await rowsOf(user)).toEqual([]);
  });

  it("logs a failure to record by the error's name only, and does not throw (the user has the answer)", async () => {
    const { log, errors } = recordingLogger();
    const failing = { appendTurn: async () => Promise.reject(Object.assign(new Error("secret detail"), { name: "ProvisionedThroughputExceededException" })) } as unknown as ConversationStore;
    await expect(recordTurn({ conversations: failing }, log, "u", "c1", turn(), false)).resolves.toBeUndefined();
    expect(errors).toEqual([{ message: "could not record the turn in history", attributes: { error_name: "ProvisionedThroughputExceededException" } }]);
  });
});

describe("paging cursors", () => {
  it("round-trip a position, opaque to clients (base64url JSON)", () => {
    const cursor = encodeCursor({ sk: "conv#c1", updatedAt: "2031-02-03T10:00:00.000Z" });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))).toEqual({ sk: "conv#c1", updatedAt: "2031-02-03T10:00:00.000Z" });
    expect(decodeCursor(cursor, "conv#", true)).toEqual({ sk: "conv#c1", updatedAt: "2031-02-03T10:00:00.000Z" });
    expect(decodeCursor(encodeCursor({ sk: "turn#c1#x" }), "turn#c1#")).toEqual({ sk: "turn#c1#x" });
  });

  it("take sort keys up to 300 characters and index positions up to 40", () => {
    expect(decodeCursor(encodeCursor({ sk: `turn#c1#${"x".repeat(292)}` }), "turn#c1#").sk).toHaveLength(300);
    expect(decodeCursor(encodeCursor({ sk: "conv#c1", updatedAt: "u".repeat(40) }), "conv#", true).updatedAt).toHaveLength(40);
  });

  it("refuse anything else with invalid_request naming the cursor", () => {
    const refused = [
      [encodeCursor({ sk: `turn#c1#${"x".repeat(293)}` }), "turn#c1#", false],
      [Buffer.from(JSON.stringify({ sk: 5 })).toString("base64url"), "turn#c1#", false],
      [Buffer.from("null").toString("base64url"), "turn#c1#", false],
      [Buffer.from("{").toString("base64url"), "turn#c1#", false],
      [encodeCursor({ sk: "turn#c1#x", updatedAt: "2031-02-03T10:00:00.000Z" }), "turn#c1#", false],
      [encodeCursor({ sk: "turn#c1#x", updatedAt: "2031-02-03T10:00:00.000Z" }), "conv#", true],
      [Buffer.from(JSON.stringify({ sk: "conv#c1", updatedAt: 7 })).toString("base64url"), "conv#", true],
    ] as const;
    for (const [cursor, prefix, withUpdatedAt] of refused) {
      let error: unknown;
      try {
        decodeCursor(cursor, prefix, withUpdatedAt);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({
        code: "invalid_request",
        message: "The cursor is not valid for this listing; start again without one.",
        extra: { details: { fields: [{ field: "cursor", problem: "not a cursor of this listing" }] } },
      });
    }
  });

  it("and the sort keys they hold stay the same across releases (stored rows use them)", () => {
    expect(summaryKey("c1")).toBe("conv#c1");
    expect(turnKey("c1", "2031-02-03T10:00:00.000Z", "r1")).toBe("turn#c1#2031-02-03T10:00:00.000Z#r1");
  });
});

describe("texts within a history item", () => {
  it("titles by the first message with whitespace collapsed, up to 80 characters, then an ellipsis", () => {
    expect(titleOf("  a\n\n b\tc  ")).toBe("a b c");
    expect(titleOf("x".repeat(80))).toBe("x".repeat(80));
    expect(titleOf("x".repeat(81))).toBe(`${"x".repeat(79)}…`);
    expect([...titleOf(`${"y ".repeat(100)}`)]).toHaveLength(80);
  });

  it("cuts UTF-8 on a character boundary, never leaving a broken character", () => {
    expect(truncateUtf8("Köln", 5)).toBe("Köln");
    expect(truncateUtf8("Köln", 4)).toBe("Köl");
    expect(truncateUtf8("Köln", 2)).toBe("K");
    expect(truncateUtf8("€€", 5)).toBe("€");
    expect(truncateUtf8("abc", 0)).toBe("");
    expect(truncateUtf8("abc", 2.7)).toBe("ab");
    // A replacement character the text really holds is kept when nothing was cut there.
    expect(truncateUtf8("a\uFFFDb", 4)).toBe("a\uFFFD");
  });

  it("keeps both texts within MAX_TURN_TEXT_BYTES, the message within half, cutting the answer first", () => {
    expect(boundTurnText({ userText: "q", assistantText: "a" })).toEqual({ userText: "q", assistantText: "a", truncated: false });
    expect(boundTurnText({ userText: "q", assistantText: "a", truncated: true }).truncated).toBe(true);
    const longMessage = "m".repeat(MAX_TURN_TEXT_BYTES);
    const bounded = boundTurnText({ userText: longMessage, assistantText: "z".repeat(MAX_TURN_TEXT_BYTES) });
    expect(bounded.userText).toHaveLength(MAX_TURN_TEXT_BYTES / 2);
    expect(bounded.assistantText).toHaveLength(MAX_TURN_TEXT_BYTES / 2);
    expect(bounded.truncated).toBe(true);
    const exact = boundTurnText({ userText: "m".repeat(1000), assistantText: "z".repeat(MAX_TURN_TEXT_BYTES - 1000) });
    expect(exact.truncated).toBe(false);
    expect(exact.assistantText).toHaveLength(MAX_TURN_TEXT_BYTES - 1000);
  });
});
