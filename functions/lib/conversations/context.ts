/**
 * What the model receives for a turn: the stored turns, newest kept, bounded by
 * `history.maxTurns` and by the model's context window, then the new message. Admission's input
 * estimate (metering) takes these same messages, so history is counted where it is sent.
 */
import type { ConverseRequest } from "../bedrock/converse.js";
import type { GatewayConfig, ModelConfig } from "../config/schema.js";
import type { StoredTurn } from "./store.js";

/** The context window assumed for a model whose `contextTokens` is not set. */
export const DEFAULT_CONTEXT_TOKENS = 32_000;

/** Tokens a message costs beyond its text (role markers and separators in the model's template). */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * A conservative token count for bounding the context: one token per 3 bytes of UTF-8. English
 * runs near 4 characters a token, and scripts of 3-byte characters near one a character, so
 * this over-counts both, and history is dropped early rather than overflowing the window.
 */
export function contextTokensOf(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / 3) + MESSAGE_OVERHEAD_TOKENS;
}

export type ModelMessage = ConverseRequest["messages"][number];

/**
 * The messages for one model call. Turns with no answer (cancelled before any text) are left
 * out: Bedrock refuses empty content and needs user and assistant to alternate.
 */
export function turnMessages(
  config: Pick<GatewayConfig, "systemPrompt" | "history">,
  model: Pick<ModelConfig, "contextTokens">,
  maxTokens: number,
  history: readonly StoredTurn[],
  message: string,
): ModelMessage[] {
  const window = model.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
  let budget = window - maxTokens - contextTokensOf(config.systemPrompt) - contextTokensOf(message);
  const kept: ModelMessage[] = [];
  let turns = 0;
  for (let i = history.length - 1; i >= 0 && turns < config.history.maxTurns; i--) {
    const turn = history[i]!;
    if (turn.assistantText.trim() === "") continue;
    const cost = contextTokensOf(turn.userText) + contextTokensOf(turn.assistantText);
    // Oldest first out: once a turn does not fit, no older one is sent either.
    if (cost > budget) break;
    budget -= cost;
    turns++;
    kept.unshift({ role: "user", text: turn.userText }, { role: "assistant", text: turn.assistantText });
  }
  return [...kept, { role: "user", text: message }];
}
