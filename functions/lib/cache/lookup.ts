/**
 * The cache's place in a turn: only a conversation's first turn is looked up (later turns
 * depend on what came before), only when `cache.enabled`, and a failed lookup is a miss, not
 * a failed turn: the cache saves cost, it is never why an answer fails.
 *
 * The worker starts the lookup speculatively, beside the history read that tells whether the
 * turn is a first one (worker/turn-reads.ts): a later turn then pays one small read it does
 * not use, and a first turn saves a round trip. Either way only a first turn's result counts.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { GatewayConfig } from "../config/schema.js";
import type { PreparedCache, PreparedEntry } from "./store.js";

type CacheDeps = { cache: PreparedCache; config: Pick<GatewayConfig, "cache"> };

/** A lookup already under way, for one prompt and model; it never rejects. */
export interface StartedLookup {
  modelId: string;
  result: Promise<{ entry: PreparedEntry | undefined } | { error: unknown }>;
}

/** Starts the lookup for `message` on `modelId` before it is known whether it will count. */
export function startPreparedLookup(deps: CacheDeps, message: string, modelId: string): StartedLookup | undefined {
  if (!deps.config.cache.enabled) return undefined;
  return { modelId, result: deps.cache.lookup(message, modelId).then((entry) => ({ entry }), (error: unknown) => ({ error })) };
}

export async function findPreparedAnswer(
  deps: CacheDeps,
  log: Logger,
  request: { message: string; firstTurn: boolean; modelId: string },
  started?: StartedLookup,
): Promise<PreparedEntry | undefined> {
  if (!deps.config.cache.enabled || !request.firstTurn) return undefined;
  try {
    if (started?.modelId !== request.modelId) return await deps.cache.lookup(request.message, request.modelId);
    const outcome = await started.result;
    if ("error" in outcome) throw outcome.error;
    return outcome.entry;
  } catch (err) {
    log.warn("prepared-response lookup failed; asking the model", { error_name: (err as Error)?.name });
    return undefined;
  }
}
