/**
 * How the fake model behaves for one request: answer length, pacing, faults. Server-wide values
 * come from `startBedrockServer(options)` / `server.configure(...)`; a directive in the last user
 * message overrides them for that request only, so end-to-end tests that hold nothing but a chat
 * client can still drive the model.
 *
 * Directive grammar (anywhere in the last user message, several allowed, later keys win):
 *
 *   directive := "[[fake:" pair ("," pair)* "]]"
 *   pair      := key "=" value          (spaces around tokens are ignored)
 *
 *   tokens=N     answer length in tokens (integer, 0..MAX_FAKE_TOKENS = 65536); always the
 *                generated answer, cut at the request's maxTokens like a real model
 *   rate=R       pacing in tokens per second (number >= 0; 0 = as fast as possible)
 *   delay=MS     milliseconds before the first token (integer >= 0)
 *   fault=F      throttle | unavailable | internal | validation | access_denied | midstream
 *                | hang | none  (access_denied: the 403 of a model the account has not enabled)
 *   after=K      for fault=midstream: tokens sent before the exception frame (integer >= 0)
 *   error=E      for fault=midstream: modelStreamError (default) | throttling | internalServer
 *                | serviceUnavailable | validation
 *   guardrail=G  intervene | none: with a guardrailConfig in the request, its guardrail
 *                intervenes (guardrail.ts); without one, nothing happens, as on Bedrock
 *
 * Directives are removed from the text before the answer is derived from it, so
 * "hello [[fake:tokens=5]]" gets the same words as "hello" would. A malformed directive is
 * answered with a 400 ValidationException naming the problem.
 */
import type { ConverseRequestBody } from "./request.js";

export const FAULTS = ["throttle", "unavailable", "internal", "validation", "access_denied", "midstream", "hang"] as const;
export type Fault = (typeof FAULTS)[number];

/** Mid-stream exception kinds, mapped to the `:exception-type` header the SDK switches on. */
export const STREAM_ERRORS = {
  modelStreamError: "modelStreamErrorException",
  throttling: "throttlingException",
  internalServer: "internalServerException",
  serviceUnavailable: "serviceUnavailableException",
  validation: "validationException",
} as const;
export type StreamError = keyof typeof STREAM_ERRORS;

/** What an answer override receives. */
export interface AnswerContext {
  modelId: string;
  /** The last user message with directives removed. */
  lastUserText: string;
  body: ConverseRequestBody;
}

export interface FakeBehaviour {
  /** Answer length in tokens for generated answers. @default 24 */
  tokens: number;
  /** Tokens per second; 0 sends as fast as the socket takes them. @default 0 */
  rate: number;
  /** Delay before the first token, in ms. @default 0 */
  firstTokenDelayMs: number;
  /** Fault injected into every request (see `faultTimes` on the server). @default null */
  fault: Fault | null;
  /** For `midstream`: tokens sent before the exception frame. @default 3 */
  faultAfterTokens: number;
  /** For `midstream`: which exception frame. @default "modelStreamError" */
  streamError: StreamError;
  /** Fixed answer text, or a function of the request, instead of the generated one. */
  answer: string | ((context: AnswerContext) => string) | null;
}

export const DEFAULT_BEHAVIOUR: FakeBehaviour = {
  tokens: 24,
  rate: 0,
  firstTokenDelayMs: 0,
  fault: null,
  faultAfterTokens: 3,
  streamError: "modelStreamError",
  answer: null,
};

/** What directives set for one request; `fault: null` means `fault=none`. */
export type DirectiveOverrides = Partial<Pick<FakeBehaviour, "tokens" | "rate" | "firstTokenDelayMs" | "fault" | "faultAfterTokens" | "streamError">> & {
  /** `guardrail=intervene`: the request's guardrail intervenes. */
  guardrailIntervenes?: boolean;
};

export type ParsedDirectives =
  | { ok: true; overrides: DirectiveOverrides; cleanText: string }
  | { ok: false; message: string };

const DIRECTIVE = /\[\[fake:([^\]]*)\]\]/g;

/**
 * The longest answer the fake generates: 64 Ki tokens, about the largest output a Bedrock model
 * offers today. Larger requests are a typo or an attempt to make the server build a huge string.
 */
export const MAX_FAKE_TOKENS = 65_536;

function nonNegative(key: string, value: string, integer: boolean): number | string {
  const number = Number(value);
  if (value === "" || !Number.isFinite(number) || number < 0 || (integer && !Number.isInteger(number))) {
    return `fake directive: ${key} must be a ${integer ? "non-negative integer" : "non-negative number"}, got "${value}"`;
  }
  return number;
}

function applyPair(overrides: DirectiveOverrides, key: string, value: string): string | null {
  switch (key) {
    case "tokens":
    case "delay":
    case "after": {
      const number = nonNegative(key, value, true);
      if (typeof number === "string") return number;
      if (key === "tokens" && number > MAX_FAKE_TOKENS) return `fake directive: tokens must be at most ${MAX_FAKE_TOKENS}, got ${value}`;
      if (key === "tokens") overrides.tokens = number;
      else if (key === "delay") overrides.firstTokenDelayMs = number;
      else overrides.faultAfterTokens = number;
      return null;
    }
    case "rate": {
      const number = nonNegative(key, value, false);
      if (typeof number === "string") return number;
      overrides.rate = number;
      return null;
    }
    case "fault":
      if (value === "none") overrides.fault = null;
      else if ((FAULTS as readonly string[]).includes(value)) overrides.fault = value as Fault;
      else return `fake directive: fault must be one of ${[...FAULTS, "none"].join(", ")}, got "${value}"`;
      return null;
    case "error":
      if (!(value in STREAM_ERRORS)) {
        return `fake directive: error must be one of ${Object.keys(STREAM_ERRORS).join(", ")}, got "${value}"`;
      }
      overrides.streamError = value as StreamError;
      return null;
    case "guardrail":
      if (value !== "intervene" && value !== "none") return `fake directive: guardrail must be intervene or none, got "${value}"`;
      overrides.guardrailIntervenes = value === "intervene";
      return null;
    default:
      return `fake directive: unknown key "${key}"`;
  }
}

/** Reads every `[[fake:...]]` directive in `text` and returns the text without them. */
export function parseDirectives(text: string): ParsedDirectives {
  const overrides: DirectiveOverrides = {};
  for (const match of text.matchAll(DIRECTIVE)) {
    for (const pair of match[1]!.split(",")) {
      const [rawKey, ...rest] = pair.split("=");
      const key = rawKey!.trim();
      if (rest.length !== 1) return { ok: false, message: `fake directive: expected key=value, got "${pair.trim()}"` };
      const problem = applyPair(overrides, key, rest[0]!.trim());
      if (problem) return { ok: false, message: problem };
    }
  }
  return { ok: true, overrides, cleanText: text.replace(DIRECTIVE, "").trim() };
}

/** Validates server-level options early, so a typo fails at start-up rather than mid-test. */
export function checkBehaviour(behaviour: FakeBehaviour): void {
  const counts: [string, number][] = [["tokens", behaviour.tokens], ["firstTokenDelayMs", behaviour.firstTokenDelayMs], ["faultAfterTokens", behaviour.faultAfterTokens]];
  for (const [name, value] of counts) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`bedrock fake: ${name} must be a non-negative integer`);
  }
  if (behaviour.tokens > MAX_FAKE_TOKENS) throw new Error(`bedrock fake: tokens must be at most ${MAX_FAKE_TOKENS}`);
  if (!Number.isFinite(behaviour.rate) || behaviour.rate < 0) throw new Error("bedrock fake: rate must be a non-negative number");
  if (behaviour.fault !== null && !(FAULTS as readonly string[]).includes(behaviour.fault)) {
    throw new Error(`bedrock fake: fault must be one of ${FAULTS.join(", ")} or null`);
  }
  if (!(behaviour.streamError in STREAM_ERRORS)) {
    throw new Error(`bedrock fake: streamError must be one of ${Object.keys(STREAM_ERRORS).join(", ")}`);
  }
}
