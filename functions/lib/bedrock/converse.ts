/**
 * One ConverseStream call as a stream of what the gateway cares about: text, the stop reason
 * and the usage Bedrock reports. Failures come out as GatewayErrors (bedrock/errors.ts).
 */
import {
  ConverseStreamCommand,
  type BedrockRuntimeClient,
  type Message,
  type SystemContentBlock,
} from "@aws-sdk/client-bedrock-runtime";
import type { TokenCounts } from "../protocol/outbound.js";
import { bedrockFailure, MODEL_IDLE_TIMEOUT } from "./errors.js";

export interface ConverseRequest {
  modelId: string;
  system: string;
  messages: { role: "user" | "assistant"; text: string }[];
  maxTokens: number;
  temperature?: number;
  guardrail?: { identifier: string; version: string };
}

export type ConversePart =
  | { kind: "text"; text: string }
  | { kind: "stop"; stopReason: string }
  | { kind: "usage"; usage: TokenCounts };

export interface ConverseOptions {
  signal?: AbortSignal;
  /** Abort when the model sends nothing for this long. */
  idleTimeoutMs?: number;
}

export async function* converseStream(
  client: BedrockRuntimeClient,
  request: ConverseRequest,
  options: ConverseOptions = {},
): AsyncGenerator<ConversePart> {
  // A signal that fired already never fires again: stop before calling the model at all.
  if (options.signal?.aborted) throw options.signal.reason;
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const armIdleTimer = () => {
    if (!options.idleTimeoutMs) return;
    clearTimeout(idle);
    idle = setTimeout(() => abort.abort(new IdleTimeout()), options.idleTimeoutMs);
  };
  try {
    armIdleTimer();
    const messages: Message[] = request.messages.map((m) => ({ role: m.role, content: [{ text: m.text }] }));
    const system: SystemContentBlock[] = request.system ? [{ text: request.system }] : [];
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: request.modelId,
        system,
        messages,
        inferenceConfig: {
          maxTokens: request.maxTokens,
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        },
        ...(request.guardrail
          ? {
              guardrailConfig: {
                guardrailIdentifier: request.guardrail.identifier,
                guardrailVersion: request.guardrail.version,
                streamProcessingMode: "sync",
              },
            }
          : {}),
      }),
      { abortSignal: abort.signal },
    );
    let stopped = false;
    for await (const event of response.stream ?? []) {
      armIdleTimer();
      if (event.messageStop) stopped = true;
      if (event.contentBlockDelta?.delta?.text) yield { kind: "text", text: event.contentBlockDelta.delta.text };
      else if (event.messageStop) yield { kind: "stop", stopReason: event.messageStop.stopReason ?? "end_turn" };
      else if (event.metadata?.usage) {
        yield {
          kind: "usage",
          usage: { inputTokens: event.metadata.usage.inputTokens ?? 0, outputTokens: event.metadata.usage.outputTokens ?? 0 },
        };
      }
    }
    // An aborted response body can end the iteration quietly: an answer is whole only when
    // the model said it stopped.
    if (abort.signal.aborted) throw abort.signal.reason;
    if (!stopped) throw bedrockFailure({ name: "ModelStreamErrorException" });
  } catch (err) {
    if (abort.signal.aborted && abort.signal.reason instanceof IdleTimeout) throw bedrockFailure(abort.signal.reason);
    if (options.signal?.aborted) throw options.signal.reason;
    throw bedrockFailure(err);
  } finally {
    clearTimeout(idle);
    options.signal?.removeEventListener("abort", onOuterAbort);
    // Leaving the loop early (cancel, relay failure) must also close the HTTP stream.
    if (!abort.signal.aborted) abort.abort();
  }
}

/** A stream silent for `idleTimeoutMs`: unavailable, as Bedrock's own timeouts are (errors.ts). */
class IdleTimeout extends Error {
  constructor() {
    super("model stream idle");
    this.name = MODEL_IDLE_TIMEOUT;
  }
}
