/**
 * A chat turn's reads before the model call, all started at once right after the claim:
 * the cancel record (a conditional put), the conversation's history, the prepared-response
 * lookup (speculative: it only counts on a conversation's first turn, which the history read
 * tells) and the user's admission record (metering). With the claim's own sequence read beside
 * them, a turn reaches the model in three sequential DynamoDB round trips: the claim, these
 * reads, the admission write (docs/performance.md, "Round trips before the model call").
 *
 * Each result is awaited where the turn used to make the call (worker/chat.ts), in the same
 * order, so failures surface exactly as they did when the reads ran one after the other.
 */
import type { ModelConfig } from "../config/schema.js";
import { startPreparedLookup, type StartedLookup } from "../cache/lookup.js";
import type { RunWatch } from "../cancel/runs.js";
import type { StoredTurn } from "../conversations/store.js";
import { loadHistory } from "../conversations/turn.js";
import type { PrefetchedUsage } from "../metering/meter.js";
import type { ChatRequest } from "../protocol/inbound.js";
import { resolveModel, type ResolvedTier } from "../routing/tier.js";
import type { WorkerDeps } from "./deps.js";

export interface ChatReads {
  /** The running-answer record that a cancel from any instance reaches. */
  run: Promise<RunWatch>;
  /**
   * The rest is read only for a model the caller may use; a refused model is refused before
   * any of it would be needed, as it was when the reads were sequential.
   */
  history?: Promise<StoredTurn[]>;
  prepared?: StartedLookup;
  usage?: PrefetchedUsage;
  /** Removes the run record when the turn does not go ahead (its claim's sequence read failed). */
  abandon(): Promise<void>;
}

export function startChatReads(deps: WorkerDeps, turn: { userId: string; request: ChatRequest; tier: ResolvedTier }): ChatReads {
  const { userId, request, tier } = turn;
  const run = deps.cancels.start(userId, request.requestId);
  // Awaited later (or never, when the turn is abandoned): a failure must not go unhandled first.
  run.catch(() => undefined);
  const abandon = async () => {
    const watch = await run.catch(() => undefined);
    await watch?.stop();
  };
  const model = allowedModel(deps, tier, request.modelId);
  if (!model) return { run, abandon };
  const history = loadHistory(deps, userId, request.conversationId);
  history.catch(() => undefined);
  return {
    run,
    history,
    prepared: startPreparedLookup(deps, request.message, model.id),
    usage: deps.usage.prefetch(userId),
    abandon,
  };
}

function allowedModel(deps: WorkerDeps, tier: ResolvedTier, requested: string | undefined): ModelConfig | undefined {
  try {
    return resolveModel(deps.config, tier.tier, requested);
  } catch {
    return undefined;
  }
}
