/**
 * Writes one successful (or mid-stream failing) model response: the ConverseStream event stream,
 * paced and interruptible, or the non-streaming Converse JSON. Errors before the answer starts
 * are the server's business (server.ts); from here on every exit is reported as an outcome.
 */
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { FakeBehaviour } from "./behaviour.js";
import { STREAM_ERRORS } from "./behaviour.js";
import { type ModelResponse, eventFrame, exceptionFrame, HTTP_ERRORS, type HttpErrorName, sendHttpError, STREAM_ERROR_BODIES } from "./wire.js";

/** How a recorded request ended. */
export type RequestOutcome =
  | "pending"
  | "end_turn"
  | "max_tokens"
  | "guardrail_intervened"
  /** Answered with an HTTP error before any event (faults, validation, auth, unknown model). */
  | "rejected"
  /** An exception frame ended the stream (fault=midstream). */
  | "stream_error"
  /** The client went away before the response finished. */
  | "client_aborted"
  /** `close()` cut the response short. */
  | "server_closed";

/** Everything needed to answer, decided before the first byte. */
export interface ResponsePlan {
  tokens: string[];
  maxTokens: number | undefined;
  inputTokens: number;
  behaviour: FakeBehaviour;
  receivedAt: number;
  requestId: string;
  /** How the answer ends when not by length (a guardrail intervention): reported as given. */
  stop?: { stopReason: string; outputTokens: number; trace?: Record<string, unknown> };
}

export interface ResponseProgress {
  deltasSent: number;
  /** The usage the response reported (its metadata event or JSON body), once it was written. */
  usage?: { inputTokens: number; outputTokens: number };
}

/** Why a response was cut short; the server aborts the request's signal with one of these. */
export type AbortReason = "client" | "server";

function abortOutcome(signal: AbortSignal): RequestOutcome {
  return signal.reason === "server" ? "server_closed" : "client_aborted";
}

/** Resolves when `signal` aborts; the listener goes with it so nothing is left behind. */
function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Sleeps until `at` (epoch ms); false when aborted first. */
async function waitUntil(at: number, signal: AbortSignal): Promise<boolean> {
  const wait = at - Date.now();
  if (signal.aborted) return false;
  if (wait <= 0) return true;
  try {
    await sleep(wait, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Writes a frame, honouring backpressure; false when the response was aborted meanwhile. */
async function writeFrame(res: ModelResponse, frame: Uint8Array, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (res.write(frame)) return true;
  const drained = new AbortController();
  const stop = () => drained.abort();
  signal.addEventListener("abort", stop, { once: true });
  try {
    await once(res, "drain", { signal: drained.signal });
    return true;
  } catch {
    return false;
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/** How many tokens are sent and why the answer stops. */
function answerLength(plan: ResponsePlan): { count: number; stopReason: "end_turn" | "max_tokens" | "guardrail_intervened" } {
  const { tokens, maxTokens } = plan;
  if (plan.stop) return { count: tokens.length, stopReason: "guardrail_intervened" };
  if (maxTokens !== undefined && tokens.length > maxTokens) return { count: maxTokens, stopReason: "max_tokens" };
  return { count: tokens.length, stopReason: "end_turn" };
}

/** Streams the answer as ConverseStream events; resolves with how it ended. */
export async function streamAnswer(res: ModelResponse, plan: ResponsePlan, signal: AbortSignal, progress: ResponseProgress): Promise<RequestOutcome> {
  const { behaviour } = plan;
  res.writeHead(200, {
    "content-type": "application/vnd.amazon.eventstream",
    "x-amzn-requestid": plan.requestId,
  });
  // Headers go out now, before any event, as Bedrock does; `hang` relies on it.
  res.flushHeaders?.();
  if (behaviour.fault === "hang") {
    await untilAborted(signal);
    return abortOutcome(signal);
  }

  const { count, stopReason } = answerLength(plan);
  const failAfter = behaviour.fault === "midstream" ? Math.min(behaviour.faultAfterTokens, count) : Infinity;
  const firstTokenAt = plan.receivedAt + behaviour.firstTokenDelayMs;
  // Absolute schedule, so pacing does not drift with timer lateness over long answers.
  const tokenAt = (i: number) => (behaviour.rate > 0 ? firstTokenAt + (i * 1000) / behaviour.rate : firstTokenAt);
  let sequence = 0;
  const send = (type: string, payload: Record<string, unknown>) => writeFrame(res, eventFrame(type, payload, sequence++), signal);

  // messageStart travels with the first token: on Bedrock, time to first byte is time to first token.
  if (!(await waitUntil(firstTokenAt, signal)) || !(await send("messageStart", { role: "assistant" }))) return abortOutcome(signal);
  for (let i = 0; i < count; i++) {
    if (i === failAfter) break;
    if (!(await waitUntil(tokenAt(i), signal))) return abortOutcome(signal);
    if (!(await send("contentBlockDelta", { contentBlockIndex: 0, delta: { text: plan.tokens[i] } }))) return abortOutcome(signal);
    progress.deltasSent++;
  }
  if (failAfter !== Infinity) {
    const exceptionType = STREAM_ERRORS[behaviour.streamError];
    if (!(await writeFrame(res, exceptionFrame(exceptionType, STREAM_ERROR_BODIES[exceptionType]!), signal))) return abortOutcome(signal);
    res.end();
    return "stream_error";
  }
  const outputTokens = plan.stop?.outputTokens ?? progress.deltasSent;
  const ok =
    (await send("contentBlockStop", { contentBlockIndex: 0 })) &&
    (await send("messageStop", { stopReason })) &&
    (await send("metadata", {
      usage: { inputTokens: plan.inputTokens, outputTokens, totalTokens: plan.inputTokens + outputTokens },
      metrics: { latencyMs: Date.now() - plan.receivedAt },
      ...(plan.stop?.trace ? { trace: plan.stop.trace } : {}),
    }));
  if (!ok) return abortOutcome(signal);
  progress.usage = { inputTokens: plan.inputTokens, outputTokens };
  res.end();
  return stopReason;
}

/** For the non-streaming Converse, a mid-stream fault becomes the matching HTTP error. */
const CONVERSE_ERRORS: Record<FakeBehaviour["streamError"], HttpErrorName> = {
  modelStreamError: "ModelErrorException",
  throttling: "ThrottlingException",
  internalServer: "InternalServerException",
  serviceUnavailable: "ServiceUnavailableException",
  validation: "ValidationException",
};

/** Answers the non-streaming Converse after the time the stream would have taken. */
export async function converseAnswer(res: ModelResponse, plan: ResponsePlan, signal: AbortSignal, progress: ResponseProgress): Promise<RequestOutcome> {
  const { behaviour } = plan;
  if (behaviour.fault === "hang") {
    await untilAborted(signal);
    return abortOutcome(signal);
  }
  const { count, stopReason } = answerLength(plan);
  const lastTokenAt = plan.receivedAt + behaviour.firstTokenDelayMs + (behaviour.rate > 0 ? (Math.max(count - 1, 0) * 1000) / behaviour.rate : 0);
  if (!(await waitUntil(lastTokenAt, signal))) return abortOutcome(signal);
  if (behaviour.fault === "midstream") {
    const name = CONVERSE_ERRORS[behaviour.streamError];
    sendHttpError(res, name, plan.requestId, HTTP_ERRORS[name].message);
    return "stream_error";
  }
  progress.deltasSent = count;
  const body = JSON.stringify({
    output: { message: { role: "assistant", content: [{ text: plan.tokens.slice(0, count).join("") }] } },
    stopReason,
    usage: { inputTokens: plan.inputTokens, outputTokens: plan.stop?.outputTokens ?? count, totalTokens: plan.inputTokens + (plan.stop?.outputTokens ?? count) },
    metrics: { latencyMs: Date.now() - plan.receivedAt },
    ...(plan.stop?.trace ? { trace: plan.stop.trace } : {}),
  });
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": plan.requestId,
  });
  res.end(body);
  progress.usage = { inputTokens: plan.inputTokens, outputTokens: plan.stop?.outputTokens ?? count };
  return stopReason;
}
