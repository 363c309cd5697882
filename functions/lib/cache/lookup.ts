/**
 * The cache's place in a turn: only a conversation's first turn is looked up (later turns
 * depend on what came before), only when `cache.enabled`, and a failed lookup is a miss, not
 * a failed turn: the cache saves cost, it is never why an answer fails.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { GatewayConfig } from "../config/schema.js";
import type { PreparedCache, PreparedEntry } from "./store.js";

export async function findPreparedAnswer(
  deps: { cache: PreparedCache; config: Pick<GatewayConfig, "cache"> },
  log: Logger,
  request: { message: string; firstTurn: boolean; modelId: string },
): Promise<PreparedEntry | undefined> {
  if (!deps.config.cache.enabled || !request.firstTurn) return undefined;
  try {
    return await deps.cache.lookup(request.message, request.modelId);
  } catch (err) {
    log.warn("prepared-response lookup failed; asking the model", { error_name: (err as Error)?.name });
    return undefined;
  }
}
