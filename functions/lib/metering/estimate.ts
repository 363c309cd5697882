/**
 * Token counts the gateway decides on before (input) or without (output) the model's own
 * report. Both are upper bounds, never underestimates, because metering reserves them (I1):
 *
 * - Byte-level BPE (Claude, Llama 3, GPT-style) and SentencePiece with byte fallback (Nova,
 *   Mistral, Llama 2) never spend more than one token per UTF-8 byte of text: every token
 *   stands for at least one byte. Characters are no bound (a CJK character is 3 bytes and can
 *   be 3 tokens), and the popular "characters / 4" rule is an average, not a bound.
 * - Chat templates add tokens the text does not carry: begin-of-text, role headers and
 *   end-of-turn markers per message, the assistant header the answer starts from. A fixed
 *   allowance per request and per message covers them (Llama 3's template, the longest of
 *   the allowlist's families, adds 5 per message and 5 per request).
 *
 * For ordinary English the bound is about 4x the real count. It is only held while the turn
 * runs: settlement charges what the model reports. See docs/metering.md.
 */

/** Tokens a chat template may add once per request (begin-of-text, assistant header). */
export const TEMPLATE_TOKENS_PER_REQUEST = 16;
/** Tokens a chat template may add around each message and the system prompt. */
export const TEMPLATE_TOKENS_PER_MESSAGE = 8;

const encoder = new TextEncoder();

/** An upper bound of the tokens any allowlisted model's tokenizer spends on `text`. */
export function tokenBound(text: string): number {
  return encoder.encode(text).length;
}

/**
 * An upper bound of the input tokens of one model call: the system prompt and every message
 * sent (history included), plus the template's allowance.
 */
export function estimateInputTokens(system: string, messages: readonly { text: string }[]): number {
  const parts = system ? [system, ...messages.map((m) => m.text)] : messages.map((m) => m.text);
  return TEMPLATE_TOKENS_PER_REQUEST + parts.reduce((sum, text) => sum + TEMPLATE_TOKENS_PER_MESSAGE + tokenBound(text), 0);
}

/**
 * Output tokens of an answer the model did not report usage for (a stream that failed or was
 * stopped mid-way): what the streamed text can have cost (`streamedBound`, the sum of
 * tokenBound over its deltas), never more than the model was allowed (`maxTokens`).
 */
export function estimateOutputTokens(streamedBound: number, maxTokens: number): number {
  return Math.min(maxTokens, streamedBound);
}
