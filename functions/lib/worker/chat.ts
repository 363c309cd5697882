/**
 * One chat turn: pick the model, stream the answer from Bedrock, relay it, report usage.
 *
 * Later capabilities slot in around the model call (`openModelStream` and the stream loop):
 * metering admits before it and settles after it, the cache answers instead of it, history
 * feeds its messages and records its result.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { DEADLINE_REASON, isRetryable } from "../bedrock/errors.js";
import type { ConverseRequest } from "../bedrock/converse.js";
import { relayCachedAnswer } from "../cache/answer.js";
import { findPreparedAnswer } from "../cache/lookup.js";
import { isCancellation } from "../cancel/runs.js";
import { turnMessages } from "../conversations/context.js";
import { loadHistory, recordTurn } from "../conversations/turn.js";
import { TurnMetering } from "../metering/turn.js";
import { METRIC, MetricUnit } from "../observability/metrics.js";
import type { ChatRequest } from "../protocol/inbound.js";
import { failureName, GatewayError, toGatewayError } from "../protocol/errors.js";
import type { ResponseRelay } from "../relay/relay.js";
import { boundedMaxTokens, resolveModel, type ResolvedTier } from "../routing/tier.js";
import type { WorkerDeps } from "./deps.js";
import { modelCandidates, openModelStream, recordModelFailure, type OpenStream } from "./open-stream.js";
import { startChatReads, type ChatReads } from "./turn-reads.js";

export interface ChatTurn {
  /** The caller's Cognito sub: whose history, cancels and usage these are. */
  userId: string;
  request: ChatRequest;
  tier: ResolvedTier;
  relay: ResponseRelay;
  log: Logger;
  /** Milliseconds until the invocation is cut off (Lambda's remaining time), when known. */
  remainingTimeMs?: () => number;
  /** The turn's reads, when the caller started them already (beside the claim's own read). */
  reads?: ChatReads;
}

/**
 * Time kept back from the invocation's deadline: the turn ends itself, with its error event
 * sent, before Lambda would kill it mid-answer.
 */
export const DEADLINE_MARGIN_MS = 10_000;

const deadlineReached = () =>
  new GatewayError("model_unavailable", "The answer took longer than this gateway allows and was stopped.", {
    retryAfterSeconds: 30,
    details: { reason: DEADLINE_REASON },
  });

/**
 * Thrown when nothing was generated and trying again later may succeed: the request's claim is
 * released, so a resend of the same request id retries.
 */
export class RetryableFailure extends Error {
  constructor(readonly failure: GatewayError) {
    super(failure.message);
    this.name = "RetryableFailure";
  }
}

export async function answerChat(deps: WorkerDeps, turn: ChatTurn): Promise<void> {
  const deadline = turn.remainingTimeMs ? deadlineSignal(turn.remainingTimeMs() - DEADLINE_MARGIN_MS) : undefined;
  const metering = new TurnMetering(deps.usage, {
    userId: turn.userId,
    requestId: turn.request.requestId,
    tier: turn.tier,
    log: turn.log,
    // Counted per model (ModelId), like the turn's other metrics: the model the request would have used.
    onRefusal: () =>
      deps.modelMetrics.record(resolveModel(deps.config, turn.tier.tier, turn.request.modelId).id, [[METRIC.limitRefusals, MetricUnit.Count, 1]]),
  });
  // Every read before the model call runs at once (turn-reads.ts); each is awaited below where
  // its call used to be made.
  const reads = turn.reads ?? startChatReads(deps, turn);
  try {
    // A cancel reaches this answer through the store, from whichever instance handled it.
    const run = await reads.run;
    try {
      const abort = deadline ? AbortSignal.any([deadline.signal, run.signal]) : run.signal;
      await streamChat(deps, turn, reads, metering, { abort, deadline: deadline?.signal });
    } finally {
      await run.stop();
    }
  } finally {
    deadline?.clear();
    // However the turn ended, what it consumed is charged and its reservation released (I4).
    await metering.settle();
  }
}

/** What stops a turn: `abort` fires on a cancel or at the deadline; `deadline` only at the deadline. */
interface TurnSignals {
  abort: AbortSignal;
  deadline?: AbortSignal;
}

async function streamChat(deps: WorkerDeps, turn: ChatTurn, reads: ChatReads, metering: TurnMetering, signals: TurnSignals): Promise<void> {
  const { config, modelMetrics } = deps;
  const { request, tier, relay, log, userId } = turn;
  const chosen = resolveModel(config, tier.tier, request.modelId);
  const conversationId = request.conversationId;
  const startedAt = performance.now();
  const at = new Date().toISOString();
  let firstTokenAt: number | undefined;
  let stopReason = "end_turn";
  let outputChars = 0;
  let answerText = "";
  if (config.observability.logPreviews) log.info("prompt preview", { preview: request.message.slice(0, 80) });

  const history = await (reads.history ?? loadHistory(deps, userId, conversationId));
  const prepared = await findPreparedAnswer(deps, log, { message: request.message, firstTurn: history.length === 0, modelId: chosen.id }, reads.prepared);
  if (prepared) {
    // A hit costs no tokens: nothing is reserved or settled, and the quota is unchanged.
    const quota = await deps.usage.quota(userId, tier, reads.usage).catch(() => undefined);
    relayCachedAnswer(relay, { conversationId, modelId: chosen.id, text: prepared.response, startedAt, quota });
    modelMetrics.record(chosen.id, [[METRIC.cacheHits, MetricUnit.Count, 1]]);
    log.info("answered from the prepared-response cache", { model_id: chosen.id });
    const turnRecord = { requestId: request.requestId, at, userText: request.message, assistantText: prepared.response, modelId: chosen.id, stopReason: "end_turn", cached: true };
    await recordTurn(deps, log, userId, conversationId, turnRecord, history.length === 0);
    return;
  }

  const candidates = modelCandidates(config, tier.tier, chosen, request.modelId !== undefined);
  // Each candidate's messages are fixed before admission, so what is sent is never more than
  // what was estimated: the longest of them is reserved for.
  const plans = candidates.map((model) => {
    const maxTokens = boundedMaxTokens(tier.tier, model, request.maxTokens);
    return { model, maxTokens, messages: turnMessages(config, model, maxTokens, history, request.message) };
  });
  const longest = plans.reduce((a, b) => (textLength(b.messages) > textLength(a.messages) ? b : a));
  const grantedTokens = await metering.admit(config.systemPrompt, longest.messages, Math.max(...plans.map((p) => p.maxTokens)), reads.usage);
  let sent: ConverseRequest | undefined;
  let opened: OpenStream;
  try {
    // An early cancel (before this request started) stops it before any model call.
    if (signals.abort.aborted) throw signals.abort.reason;
    opened = await openModelStream(
      deps,
      candidates,
      (model) => {
        const plan = plans.find((p) => p.model.id === model.id)!;
        sent = {
          modelId: model.id,
          system: config.systemPrompt,
          messages: plan.messages,
          maxTokens: Math.min(grantedTokens, plan.maxTokens),
          temperature: request.temperature,
          guardrail: deps.guardrail,
        };
        return sent;
      },
      log,
      signals.abort,
    );
  } catch (err) {
    if (isCancellation(err)) {
      // Stopped before the answer began: no `start`; the input the model may have read is settled.
      if (sent) metering.modelCalled();
      const consumed = metering.consumed();
      const quota = await metering.settle();
      relay.send({ type: "done", conversationId, stopReason: "cancelled", cached: false, usage: consumed, ...(quota ? { quota } : {}), latencyMs: { firstToken: null, total: Math.round(performance.now() - startedAt) } });
      const turnRecord = { requestId: request.requestId, at, userText: request.message, assistantText: "", modelId: chosen.id, stopReason: "cancelled", cancelled: true };
      await recordTurn(deps, log, userId, conversationId, turnRecord, history.length === 0);
      log.info("chat cancelled before the answer began", { input_tokens: consumed.inputTokens });
      return;
    }
    // Nothing was generated: a throttled or unavailable model may be retried under this id.
    const failure = toGatewayError(err);
    if (isRetryable(failure)) throw new RetryableFailure(failure);
    throw failure;
  }
  const { model } = opened;
  const parts = metering.observe(opened.parts);
  log.appendKeys({ model_id: model.id });
  relay.send({ type: "start", conversationId, modelId: model.id, cached: false });

  try {
    for await (const part of parts) {
      if (part.kind === "text") {
        firstTokenAt ??= performance.now();
        outputChars += part.text.length;
        answerText += part.text;
        relay.delta(conversationId, part.text);
        // Nobody can receive the rest: stop paying for it.
        if (relay.failed) {
          stopReason = "relay_failed";
          break;
        }
      } else if (part.kind === "stop") stopReason = part.stopReason;
    }
  } catch (err) {
    if (isCancellation(err)) stopReason = "cancelled";
    else {
      const failure = toGatewayError(err);
      // Stopped at the deadline: the model did not fail.
      if (!signals.deadline?.aborted) recordModelFailure(modelMetrics, model.id, failure);
      log.warn("model stream failed", { code: failure.code, error_name: failureName(err), output_chars: outputChars });
      throw failure;
    }
  }
  // The model's report; a cancelled or cut stream ends before it: what was sent and streamed.
  const usage = metering.consumed();
  if (stopReason === "guardrail_intervened") modelMetrics.record(model.id, [[METRIC.guardrailInterventions, MetricUnit.Count, 1]]);
  const turnRecord = { requestId: request.requestId, at, userText: request.message, assistantText: answerText, modelId: model.id, stopReason };
  await recordTurn(deps, log, userId, conversationId, stopReason === "cancelled" ? { ...turnRecord, cancelled: true } : turnRecord, history.length === 0);

  const total = Math.round(performance.now() - startedAt);
  const firstToken = firstTokenAt === undefined ? null : Math.round(firstTokenAt - startedAt);
  const quota = await metering.settle();
  relay.send({ type: "done", conversationId, stopReason, cached: false, usage, ...(quota ? { quota } : {}), latencyMs: { firstToken, total } });

  modelMetrics.record(model.id, [
    [METRIC.inputTokens, MetricUnit.Count, usage.inputTokens],
    [METRIC.outputTokens, MetricUnit.Count, usage.outputTokens],
    [METRIC.responseLatency, MetricUnit.Milliseconds, total],
    ...(firstToken !== null ? [[METRIC.firstTokenLatency, MetricUnit.Milliseconds, firstToken] as const] : []),
  ]);
  log.info("chat answered", {
    stop_reason: stopReason,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    first_token_ms: firstToken,
    total_ms: total,
  });
}

const textLength = (messages: readonly { text: string }[]) => messages.reduce((sum, m) => sum + m.text.length, 0);

function deadlineSignal(afterMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineReached()), Math.max(0, afterMs));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
