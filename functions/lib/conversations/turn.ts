/**
 * History around one chat turn: the stored turns before it, and the record written once it
 * has ended. Which outcomes are recorded is decided here (docs/decisions.md, Conversations).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { GatewayConfig } from "../config/schema.js";
import type { ConversationStore, StoredTurn } from "./store.js";

/**
 * Outcomes that are not recorded: the user did not receive the answer (relay failure), so
 * the turn did not happen for them. Errors are never recorded either (they throw past the
 * recording); the user resends.
 */
const UNRECORDED_STOP_REASONS = new Set(["relay_failed"]);

/** The turns sent back to the model, oldest first (the context bounds them further). */
export function loadHistory(
  deps: { conversations: ConversationStore; config: Pick<GatewayConfig, "history"> },
  userId: string,
  conversationId: string,
): Promise<StoredTurn[]> {
  return deps.conversations.recentTurns(userId, conversationId, deps.config.history.maxTurns);
}

/**
 * Records a turn that has ended. A failure to record is logged, not thrown: the user already
 * has the answer, and the next turn simply lacks this one.
 */
export async function recordTurn(
  deps: { conversations: ConversationStore },
  log: Logger,
  userId: string,
  conversationId: string,
  turn: StoredTurn,
  startsConversation: boolean,
): Promise<void> {
  if (UNRECORDED_STOP_REASONS.has(turn.stopReason)) return;
  try {
    await deps.conversations.appendTurn(userId, conversationId, turn, startsConversation);
  } catch (err) {
    log.error("could not record the turn in history", { error_name: (err as Error)?.name });
  }
}
