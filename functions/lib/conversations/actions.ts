/**
 * The `conversations`, `history` and `deleteConversation` actions. Every read and delete is in
 * the caller's own partition: another user's conversation id reads as empty and deletes
 * nothing, exactly like an unknown one, so the answer reveals nothing about other users.
 */
import type { OutboundBody } from "../protocol/outbound.js";
import type { ConversationStore, StoredTurn } from "./store.js";

/** Turns read per `history` page before the event-size budget is applied. */
export const HISTORY_PAGE_TURNS = 50;
/**
 * Text budget of one `history` event: AppSync Events carries at most 240 KB per event, and the
 * envelope, keys and JSON escaping need the rest.
 */
export const HISTORY_EVENT_BUDGET_BYTES = 180_000;

type HistoryEntry = Extract<OutboundBody, { type: "history" }>["turns"][number];

export async function listConversations(store: ConversationStore, userId: string, cursor?: string): Promise<OutboundBody> {
  const page = await store.list(userId, cursor);
  return { type: "conversations", conversations: page.conversations, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

/**
 * The newest page of a conversation's turns (or the page before `cursor`), oldest first, as
 * many as fit one event; `nextCursor` leads to older turns.
 */
export async function conversationHistory(
  store: ConversationStore,
  userId: string,
  conversationId: string,
  cursor?: string,
): Promise<OutboundBody> {
  const page = await store.turnsPage(userId, conversationId, { cursor, limit: HISTORY_PAGE_TURNS });
  const kept: HistoryEntry[][] = [];
  let used = 0;
  let cutAfter: StoredTurn | undefined;
  // Newest first, so a full event keeps the turns nearest the present.
  for (let i = page.turns.length - 1; i >= 0; i--) {
    const turn = page.turns[i]!;
    let entries = historyEntries(turn);
    let size = jsonBytes(entries);
    if (used + size > HISTORY_EVENT_BUDGET_BYTES) {
      if (kept.length > 0) {
        cutAfter = page.turns[i + 1];
        break;
      }
      // A single turn larger than an event: send its beginning, marked truncated.
      entries = clipEntries(entries, HISTORY_EVENT_BUDGET_BYTES);
      size = jsonBytes(entries);
    }
    used += size;
    kept.unshift(entries);
  }
  const nextCursor = cutAfter ? store.cursorAfter(conversationId, cutAfter) : page.nextCursor;
  return { type: "history", conversationId, turns: kept.flat(), ...(nextCursor ? { nextCursor } : {}) };
}

export async function deleteConversation(store: ConversationStore, userId: string, conversationId: string): Promise<OutboundBody> {
  const turns = await store.delete(userId, conversationId);
  return { type: "deleteConversation", conversationId, deleted: turns > 0 };
}

/** A stored turn as the protocol's two entries: the user's message and the answer. */
function historyEntries(turn: StoredTurn): HistoryEntry[] {
  const flags = {
    ...(turn.cached ? { cached: true } : {}),
    ...(turn.cancelled ? { cancelled: true } : {}),
    ...(turn.truncated ? { truncated: true } : {}),
  };
  return [
    { role: "user", text: turn.userText, at: turn.at },
    { role: "assistant", text: turn.assistantText, at: turn.at, ...flags },
  ];
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

/** Halves the longer text until the entries fit; rare (one turn over 180 KB of JSON). */
function clipEntries(entries: HistoryEntry[], budget: number): HistoryEntry[] {
  const clipped = entries.map((e) => ({ ...e }));
  while (jsonBytes(clipped) > budget) {
    const longest = clipped.reduce((a, b) => (b.text.length > a.text.length ? b : a));
    longest.text = longest.text.slice(0, Math.floor(longest.text.length / 2));
    longest.truncated = true;
  }
  return clipped;
}
