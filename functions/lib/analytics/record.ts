/**
 * Building a turn's analytics record from what the turn told its user (its `start`, answer
 * text and final `done` or `error` event) and what the worker knew of the request. Built once
 * per turn; prompt and answer text appear only as previews, and only with logPreviews.
 */
import type { GatewayConfig, ModelPricing } from "../config/schema.js";
import type { TokenCounts } from "../protocol/outbound.js";
import type { TurnRecord } from "./columns.js";

/** Characters of prompt and answer kept when previews are on (as in the logs). */
export const PREVIEW_CHARS = 80;

/** How the turn ended, as its final event said. */
export type TurnEnding =
  | { kind: "done"; stopReason: string; usage: TokenCounts; latencyMs: { firstToken: number | null; total: number } }
  | { kind: "error"; code: string }
  /** The final event never reached the publisher: the relay had already failed. */
  | { kind: "undelivered" };

export interface TurnFacts {
  requestId: string;
  userId: string;
  conversationId: string;
  tier: string;
  /** Wall-clock milliseconds when the turn began. */
  startedAt: number;
  /** The model whose `start` was sent, else the model the request named. */
  modelId: string | null;
  /** Whether a model stream began (`start` was sent). */
  answerStarted: boolean;
  cached: boolean;
  ending: TurnEnding;
  /** Measured by the recorder, used when the final event carries no latency (errors). */
  observedMs: { firstToken: number | null; total: number };
  prompt: string;
  /** The answer's first characters as relayed (kept only when previews are on). */
  answerStart: string;
}

/** USD for the tokens at the model's prices; null when the model has no prices or tokens are unknown. */
export function estimateCostUsd(pricing: ModelPricing | undefined, inputTokens: number | null, outputTokens: number | null): number | null {
  if (!pricing || inputTokens === null || outputTokens === null) return null;
  const usd = (inputTokens * pricing.inputPerMillionTokens + outputTokens * pricing.outputPerMillionTokens) / 1_000_000;
  // Sub-micro-dollar noise from float arithmetic would only confuse sums.
  return Math.round(usd * 1e9) / 1e9;
}

export function buildTurnRecord(facts: TurnFacts, config: Pick<GatewayConfig, "models" | "observability">): TurnRecord {
  const { ending } = facts;
  const previews = config.observability.logPreviews;
  let tokens: { input: number | null; output: number | null };
  if (ending.kind === "done") tokens = { input: ending.usage.inputTokens, output: ending.usage.outputTokens };
  // Refused or failed before any model answered: nothing was generated, nothing is billed.
  else if (!facts.answerStarted) tokens = { input: 0, output: 0 };
  // Failed mid-answer: the model's usage report never came, so the figures are unknown.
  else tokens = { input: null, output: null };
  const latency = ending.kind === "done" ? ending.latencyMs : facts.observedMs;
  const pricing = config.models.find((m) => m.id === facts.modelId)?.pricing;
  // A prepared (cached) answer costs no model tokens, whatever the model's prices.
  const cost = facts.cached && ending.kind === "done" ? 0 : estimateCostUsd(pricing, tokens.input, tokens.output);
  return {
    request_id: facts.requestId,
    user_id: facts.userId,
    conversation_id: facts.conversationId,
    model_id: facts.modelId,
    tier: facts.tier,
    input_tokens: tokens.input,
    output_tokens: tokens.output,
    estimated_cost_usd: cost,
    cached: facts.cached,
    stop_reason: ending.kind === "done" ? ending.stopReason : ending.kind === "undelivered" ? "relay_failed" : null,
    error_code: ending.kind === "error" ? ending.code : null,
    first_token_ms: latency.firstToken === null ? null : Math.round(latency.firstToken),
    total_ms: Math.round(latency.total),
    turn_at: facts.startedAt,
    prompt_preview: previews ? facts.prompt.slice(0, PREVIEW_CHARS) : null,
    answer_preview: previews && facts.answerStart ? facts.answerStart.slice(0, PREVIEW_CHARS) : null,
  };
}
