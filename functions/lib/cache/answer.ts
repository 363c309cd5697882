/**
 * A cache hit answers like the model would (`start`, `delta`s, `done`), marked `cached: true`,
 * and costs no model tokens: usage is 0 and nothing is reserved or settled.
 */
import type { Quota, TokenCounts } from "../protocol/outbound.js";
import type { ResponseRelay } from "../relay/relay.js";

/** Deltas of a prepared answer; the relay coalesces them into events far below AppSync's 240 KB. */
const CHUNK_CHARS = 4000;

export const NO_TOKENS: TokenCounts = { inputTokens: 0, outputTokens: 0 };

export function relayCachedAnswer(
  relay: ResponseRelay,
  answer: { conversationId: string; modelId: string; text: string; startedAt: number; /** Unchanged by a hit; metering reads it. */ quota?: Quota },
): void {
  const { conversationId, modelId, text, startedAt, quota } = answer;
  relay.send({ type: "start", conversationId, modelId, cached: true });
  const firstToken = Math.round(performance.now() - startedAt);
  for (let i = 0; i < text.length; i += CHUNK_CHARS) relay.delta(conversationId, text.slice(i, i + CHUNK_CHARS));
  const total = Math.round(performance.now() - startedAt);
  relay.send({ type: "done", conversationId, stopReason: "end_turn", cached: true, usage: { ...NO_TOKENS }, ...(quota ? { quota } : {}), latencyMs: { firstToken, total } });
}
