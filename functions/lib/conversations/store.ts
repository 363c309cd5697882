/**
 * Conversation history in DynamoDB: one item per turn (the user's message and the answer it
 * got), a summary row per conversation for listing, all in the caller's own partition and all
 * expiring `history.ttlDays` after their last write (checked by time here too: TTL deletion
 * is lazy). A turn is written once, when it has ended, so a failed or refused turn never
 * leaves half of itself behind.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { decodeCursor, encodeCursor } from "./cursor.js";
import {
  BY_UPDATED_INDEX,
  expiryAfterDays,
  isExpired,
  SUMMARY_PREFIX,
  summaryKey,
  turnKey,
  turnPrefix,
} from "./keys.js";

export interface StoredTurn {
  requestId: string;
  /** ISO time the request arrived; turns are ordered by it. */
  at: string;
  userText: string;
  assistantText: string;
  modelId: string;
  stopReason: string;
  /** Answered from the prepared-response cache. */
  cached?: boolean;
  /** Stopped by the user: `assistantText` is what was streamed until then. */
  cancelled?: boolean;
  /** The answer was longer than a history item holds; `assistantText` is its beginning. */
  truncated?: boolean;
}

export interface ConversationSummary {
  conversationId: string;
  title: string;
  updatedAt: string;
}

/** DynamoDB caps an item at 400 KB; the two texts of a turn stay well under it. */
export const MAX_TURN_TEXT_BYTES = 350_000;
/** Conversation titles: the first message, this many characters at most. */
export const TITLE_CHARS = 80;
/** Conversations per `conversations` page. */
export const CONVERSATIONS_PAGE = 20;

export interface ConversationStoreOptions {
  dynamodb: DynamoDBClient;
  tableName: string;
  /** `history.ttlDays`. */
  ttlDays: number;
  /** Clock, for tests of expiry. @default Date.now */
  now?: () => number;
}

export class ConversationStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly now: () => number;

  constructor(private readonly options: ConversationStoreOptions) {
    this.db = DynamoDBDocumentClient.from(options.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    this.now = options.now ?? Date.now;
  }

  get tableName(): string {
    return this.options.tableName;
  }

  /** The newest `limit` unexpired turns of a conversation, oldest first. */
  async recentTurns(userId: string, conversationId: string, limit: number): Promise<StoredTurn[]> {
    const page = await this.queryTurns(userId, conversationId, { limit });
    return page.items.reverse();
  }

  /**
   * Records a finished turn and brings the conversation's summary up to date, together.
   * `startsConversation` (no unexpired turn before it) retitles a summary that outlived its
   * turns; otherwise the title stays the first message's.
   */
  async appendTurn(userId: string, conversationId: string, turn: StoredTurn, startsConversation = false): Promise<void> {
    const nowMs = this.now();
    const ttl = expiryAfterDays(nowMs, this.options.ttlDays);
    const updatedAt = new Date(nowMs).toISOString();
    const bounded = boundTurnText(turn);
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                user_id: userId,
                sk: turnKey(conversationId, turn.at, turn.requestId),
                request_id: turn.requestId,
                at: turn.at,
                user_text: bounded.userText,
                assistant_text: bounded.assistantText,
                model_id: turn.modelId,
                stop_reason: turn.stopReason,
                cached: turn.cached || undefined,
                cancelled: turn.cancelled || undefined,
                truncated: bounded.truncated || undefined,
                ttl,
              },
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: { user_id: userId, sk: summaryKey(conversationId) },
              UpdateExpression: startsConversation
                ? "SET conversation_id = :cid, updated_at = :updated, #ttl = :ttl, title = :title, created_at = :updated, turn_count = :one"
                : "SET conversation_id = :cid, updated_at = :updated, #ttl = :ttl, " +
                  "title = if_not_exists(title, :title), created_at = if_not_exists(created_at, :updated) ADD turn_count :one",
              ExpressionAttributeNames: { "#ttl": "ttl" },
              ExpressionAttributeValues: {
                ":cid": conversationId,
                ":updated": updatedAt,
                ":ttl": ttl,
                ":title": titleOf(turn.userText),
                ":one": 1,
              },
            },
          },
        ],
      }),
    );
  }

  /** The caller's conversations, most recently updated first, a page at a time. */
  async list(userId: string, cursor?: string): Promise<{ conversations: ConversationSummary[]; nextCursor?: string }> {
    const start = cursor ? decodeCursor(cursor, SUMMARY_PREFIX, true) : undefined;
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_UPDATED_INDEX,
        KeyConditionExpression: "user_id = :u",
        ExpressionAttributeValues: { ":u": userId },
        ScanIndexForward: false,
        Limit: CONVERSATIONS_PAGE,
        ...(start ? { ExclusiveStartKey: { user_id: userId, sk: start.sk, updated_at: start.updatedAt } } : {}),
      }),
    );
    const nowMs = this.now();
    const conversations = (result.Items ?? [])
      .filter((item) => !isExpired(item.ttl, nowMs))
      .map((item) => ({ conversationId: item.conversation_id as string, title: item.title as string, updatedAt: item.updated_at as string }));
    const last = result.LastEvaluatedKey;
    return { conversations, ...(last ? { nextCursor: encodeCursor({ sk: last.sk as string, updatedAt: last.updated_at as string }) } : {}) };
  }

  /**
   * One page of a conversation's turns, newest page first, each page in chronological order;
   * `nextCursor` leads to older turns.
   */
  async turnsPage(
    userId: string,
    conversationId: string,
    options: { cursor?: string; limit: number },
  ): Promise<{ turns: StoredTurn[]; nextCursor?: string }> {
    const start = options.cursor ? decodeCursor(options.cursor, turnPrefix(conversationId)) : undefined;
    const page = await this.queryTurns(userId, conversationId, { limit: options.limit, startSk: start?.sk });
    return { turns: page.items.reverse(), ...(page.lastSk ? { nextCursor: encodeCursor({ sk: page.lastSk }) } : {}) };
  }

  /** The cursor that continues a history listing after `turn` (towards older turns). */
  cursorAfter(conversationId: string, turn: StoredTurn): string {
    return encodeCursor({ sk: turnKey(conversationId, turn.at, turn.requestId) });
  }

  /**
   * Deletes a conversation of the caller's: its turns first, then its summary, so an
   * interrupted delete leaves it listed and can be repeated. Returns the turns removed (0 for
   * an unknown id, or one that belongs to someone else: their rows are in another partition).
   */
  async delete(userId: string, conversationId: string): Promise<number> {
    let deleted = 0;
    let startSk: string | undefined;
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "user_id = :u AND begins_with(sk, :p)",
          ExpressionAttributeValues: { ":u": userId, ":p": turnPrefix(conversationId) },
          ProjectionExpression: "sk",
          ...(startSk ? { ExclusiveStartKey: { user_id: userId, sk: startSk } } : {}),
        }),
      );
      const keys = (result.Items ?? []).map((item) => ({ user_id: userId, sk: item.sk as string }));
      await this.deleteKeys(keys);
      deleted += keys.length;
      startSk = result.LastEvaluatedKey?.sk as string | undefined;
    } while (startSk);
    await this.deleteKeys([{ user_id: userId, sk: summaryKey(conversationId) }]);
    return deleted;
  }

  private async deleteKeys(keys: { user_id: string; sk: string }[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      // Unprocessed items are normal under load: retry them, with a short backoff.
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        if (attempt > 8) throw new Error("DynamoDB left deletes unprocessed");
        const result = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  private async queryTurns(
    userId: string,
    conversationId: string,
    options: { limit: number; startSk?: string },
  ): Promise<{ items: StoredTurn[]; lastSk?: string }> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: "user_id = :u AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":u": userId, ":p": turnPrefix(conversationId) },
      ScanIndexForward: false,
      Limit: options.limit,
      ...(options.startSk ? { ExclusiveStartKey: { user_id: userId, sk: options.startSk } } : {}),
    };
    const result = await this.db.send(new QueryCommand(input));
    const nowMs = this.now();
    const items = (result.Items ?? []).filter((item) => !isExpired(item.ttl, nowMs)).map(toTurn);
    return { items, ...(result.LastEvaluatedKey ? { lastSk: result.LastEvaluatedKey.sk as string } : {}) };
  }
}

function toTurn(item: Record<string, unknown>): StoredTurn {
  return {
    requestId: item.request_id as string,
    at: item.at as string,
    userText: item.user_text as string,
    assistantText: (item.assistant_text as string | undefined) ?? "",
    modelId: item.model_id as string,
    stopReason: item.stop_reason as string,
    ...(item.cached ? { cached: true } : {}),
    ...(item.cancelled ? { cancelled: true } : {}),
    ...(item.truncated ? { truncated: true } : {}),
  };
}

/** The first message, whitespace collapsed, cut at TITLE_CHARS. */
export function titleOf(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  return flat.length <= TITLE_CHARS ? flat : `${flat.slice(0, TITLE_CHARS - 1)}…`;
}

/** Keeps a turn's texts within MAX_TURN_TEXT_BYTES, cutting the answer (the message is bounded by maxInputChars). */
export function boundTurnText(turn: Pick<StoredTurn, "userText" | "assistantText" | "truncated">): {
  userText: string;
  assistantText: string;
  truncated: boolean;
} {
  const userText = truncateUtf8(turn.userText, MAX_TURN_TEXT_BYTES / 2);
  const room = MAX_TURN_TEXT_BYTES - Buffer.byteLength(userText, "utf8");
  const assistantText = truncateUtf8(turn.assistantText, room);
  return { userText, assistantText, truncated: Boolean(turn.truncated) || assistantText.length < turn.assistantText.length };
}

/** The longest prefix of `text` within `maxBytes` of UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  let end = Math.max(0, Math.floor(maxBytes));
  // The first byte left out continues a character (10xxxxxx): step back to where that character starts.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}
