/**
 * Tokens consumed by an answer that ended without the model's usage report (cancelled): the
 * input as sent and the output as streamed, both counted conservatively (conversations/
 * context.ts), so settling them never charges less than the model used.
 */
import type { ConverseRequest } from "../bedrock/converse.js";
import { contextTokensOf } from "../conversations/context.js";
import type { TokenCounts } from "../protocol/outbound.js";

export function estimateConsumed(request: Pick<ConverseRequest, "system" | "messages">, streamedText: string, modelStarted: boolean): TokenCounts {
  if (!modelStarted) return { inputTokens: 0, outputTokens: 0 };
  const inputTokens = contextTokensOf(request.system) + request.messages.reduce((sum, m) => sum + contextTokensOf(m.text), 0);
  const outputTokens = streamedText === "" ? 0 : Math.ceil(Buffer.byteLength(streamedText, "utf8") / 3);
  return { inputTokens, outputTokens };
}
