/**
 * Guardrails on the fake model, enough to test a gateway's guardrail path: a request that
 * names a guardrail (`guardrailConfig`) is checked before the model answers, and an
 * intervention is reported the way ConverseStream reports one: the guardrail's blocked
 * message as the answer's text, `messageStop.stopReason: "guardrail_intervened"`, usage with
 * no output tokens, and a `trace.guardrail` assessment in `metadata` when the request asked
 * for a trace.
 *
 * The guardrail intervenes when the last user message holds a denied topic's name (whole
 * words, any case) or the directive `[[fake:guardrail=intervene]]`. Guardrails are registered
 * with the server (`guardrails` option); with none registered, any identifier is accepted and
 * only the directive intervenes.
 */
import type { ConverseRequestBody } from "./request.js";

export interface FakeGuardrail {
  /** The identifier requests name (`guardrailConfig.guardrailIdentifier`). */
  id: string;
  /** Published versions requests may name; DRAFT is always accepted. @default ["1"] */
  versions?: string[];
  /** Topic names that trigger an intervention. */
  deniedTopics?: string[];
  /** The blocked-input message, as the guardrail's `blockedInputMessaging`. */
  blockedMessage?: string;
}

/** Bedrock's own default blocked message. */
export const DEFAULT_BLOCKED_MESSAGE = "Sorry, the model cannot answer this question.";

export type GuardrailVerdict =
  | { kind: "pass" }
  | { kind: "invalid"; message: string }
  | { kind: "intervene"; message: string; trace?: Record<string, unknown> };

export function checkGuardrail(
  body: ConverseRequestBody,
  lastUserText: string,
  forced: boolean,
  registered: readonly FakeGuardrail[],
): GuardrailVerdict {
  const config = body.guardrailConfig;
  if (!config) return { kind: "pass" };
  const guardrail = registered.find((g) => g.id === config.guardrailIdentifier);
  if (registered.length > 0) {
    const versions = guardrail?.versions ?? ["1"];
    if (!guardrail || (config.guardrailVersion !== "DRAFT" && !versions.includes(config.guardrailVersion))) {
      return { kind: "invalid", message: "The guardrail identifier or version provided in the request does not exist." };
    }
  }
  const topic = guardrail?.deniedTopics?.find((name) => new RegExp(`\\b${escapeRegExp(name)}\\b`, "i").test(lastUserText));
  if (!forced && !topic) return { kind: "pass" };
  const message = guardrail?.blockedMessage ?? DEFAULT_BLOCKED_MESSAGE;
  const tracing = config.trace === "enabled" || config.trace === "enabled_full";
  return {
    kind: "intervene",
    message,
    ...(tracing
      ? {
          trace: {
            guardrail: {
              inputAssessment: {
                [config.guardrailIdentifier]: {
                  topicPolicy: { topics: [{ name: topic ?? "fake-directive", type: "DENY", action: "BLOCKED" }] },
                },
              },
            },
          },
        }
      : {}),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
