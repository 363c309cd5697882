/**
 * One chat turn: pick the model, stream the answer from Bedrock, relay it, report usage.
 *
 * Later capabilities slot in around the model call (`openModelStream` and the stream loop):
 * metering admits before it and settles after it, the cache answers instead of it, history
 * feeds its messages and records its result.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { isRetryable } from "../bedrock/errors.js";
import type { ConverseRequest } from "../bedrock/converse.js";
import { relayCachedAnswer } from "../cache/answer.js";
import { findPreparedAnswer } from "../cache/lookup.js";
import { estimateConsumed } from "../cancel/consumed.js";
import { isCancellation } from "../cancel/runs.js";
import { turnMessages } from "../conversations/context.js";
import { loadHistory, recordTurn } from "../conversations/turn.js";
import { METRIC, MetricUnit } from "../observability/metrics.js";
import type { ChatRequest } from "../protocol/inbound.js";
import { GatewayError, toGatewayError } from "../protocol/errors.js";
import type { TokenCounts } from "../protocol/outbound.js";
import type { ResponseRelay } from "../relay/relay.js";
import { boundedMaxTokens, resolveModel, type ResolvedTier } from "../routing/tier.js";
import type { WorkerDeps } from "./deps.js";
import { modelCandidates, openModelStream, recordModelFailure, type OpenStream } from "./open-stream.js";

export interface ChatTurn {
  request: ChatRequest;
  /** The caller's Cognito sub: whose history, cancels and usage these are. */
  sub: string;
  tier: ResolvedTier;
  relay: ResponseRelay;
  log: Logger;
  /** Milliseconds until the invocation is cut off (Lambda's remaining time), when known. */
  remainingTimeMs?: () => number;
}

/**
 * Time kept back from the invocation's deadline: the turn ends itself, with its error event
 * sent, before Lambda would kill it mid-answer.
 */
export const DEADLINE_MARGIN_MS = 10_000;

const deadlineReached = () =>
  new GatewayError("model_unavailable", "The answer took longer than this gateway allows and was stopped.", {
    retryAfterSeconds: 30,
    details: { reason: "deadline" },
  });

/** Thrown to release the request's claim: nothing was generated, so a resend may retry. */
export class RetryableFailure extends Error {
  constructor(readonly failure: GatewayError) {
    super(failure.message);
    this.name = "RetryableFailure";
  }
}

export async function answerChat(deps: WorkerDeps, turn: ChatTurn): Promise<void> {
  const deadline = turn.remainingTimeMs ? deadlineSignal(turn.remainingTimeMs() - DEADLINE_MARGIN_MS) : undefined;
  // A cancel reaches this answer through the store, from whichever instance handled it.
  const run = await deps.cancels.start(turn.sub, turn.request.requestId);
  try {
    await streamChat(deps, turn, deadline ? AbortSignal.any([deadline.signal, run.signal]) : run.signal);
  } finally {
    deadline?.clear();
    await run.stop();
  }
}

async function streamChat(deps: WorkerDeps, turn: ChatTurn, signal: AbortSignal): Promise<void> {
  const { config, modelMetrics } = deps;
  const { request, tier, relay, log, sub } = turn;
  const chosen = resolveModel(config, tier.tier, request.modelId);
  const conversationId = request.conversationId;
  const startedAt = performance.now();
  const at = new Date().toISOString();
  let firstTokenAt: number | undefined;
  let stopReason = "end_turn";
  let usage: TokenCounts | undefined;
  let outputChars = 0;
  let answerText = "";
  if (config.observability.logPreviews) log.info("prompt preview", { preview: request.message.slice(0, 80) });

  const history = await loadHistory(deps, sub, conversationId);
  const prepared = await findPreparedAnswer(deps, log, { message: request.message, firstTurn: history.length === 0, modelId: chosen.id });
  if (prepared) {
    relayCachedAnswer(relay, { conversationId, modelId: chosen.id, text: prepared.response, startedAt });
    modelMetrics.record(chosen.id, [[METRIC.cacheHits, MetricUnit.Count, 1]]);
    log.info("answered from the prepared-response cache", { model_id: chosen.id });
    const turnRecord = { requestId: request.requestId, at, userText: request.message, assistantText: prepared.response, modelId: chosen.id, stopReason: "end_turn", cached: true };
    await recordTurn(deps, log, sub, conversationId, turnRecord, history.length === 0);
    return;
  }

  const candidates = modelCandidates(config, tier.tier, chosen, request.modelId !== undefined);
  let sent: ConverseRequest | undefined;
  let opened: OpenStream;
  try {
    // An early cancel (before this request started) stops it before any model call.
    if (signal.aborted) throw signal.reason;
    opened = await openModelStream(
      deps,
      candidates,
      (model) => {
        const maxTokens = boundedMaxTokens(tier.tier, model, request.maxTokens);
        sent = {
          modelId: model.id,
          system: config.systemPrompt,
          messages: turnMessages(config, model, maxTokens, history, request.message),
          maxTokens,
          temperature: request.temperature,
          guardrail: deps.guardrail,
        };
        return sent;
      },
      log,
      signal,
    );
  } catch (err) {
    if (isCancellation(err)) {
      // Stopped before the answer began: no `start`; the input the model may have read is settled.
      const consumed = sent ? estimateConsumed(sent, "", true) : { inputTokens: 0, outputTokens: 0 };
      relay.send({ type: "done", conversationId, stopReason: "cancelled", cached: false, usage: consumed, latencyMs: { firstToken: null, total: Math.round(performance.now() - startedAt) } });
      const turnRecord = { requestId: request.requestId, at, userText: request.message, assistantText: "", modelId: chosen.id, stopReason: "cancelled", cancelled: true };
      await recordTurn(deps, log, sub, conversationId, turnRecord, history.length === 0);
      log.info("chat cancelled before the answer began", { input_tokens: consumed.inputTokens });
      return;
    }
    // Nothing was generated: a throttled or unavailable model may be retried under this id.
    const failure = toGatewayError(err);
    if (isRetryable(failure)) throw new RetryableFailure(failure);
    throw failure;
  }
  const { model } = opened;
  log.appendKeys({ model_id: model.id });
  relay.send({ type: "start", conversationId, modelId: model.id, cached: false });

  try {
    for await (const part of opened.parts) {
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
      else usage = part.usage;
    }
  } catch (err) {
    if (isCancellation(err)) stopReason = "cancelled";
    else {
      const failure = toGatewayError(err);
      recordModelFailure(modelMetrics, model.id, failure);
      log.warn("model stream failed", { code: failure.code, error_name: (err as Error)?.name, output_chars: outputChars });
      throw failure;
    }
  }
  // A cancelled stream ends before the model's usage report: settle what was sent and streamed.
  usage ??= estimateConsumed(sent!, answerText, true);
  if (stopReason === "guardrail_intervened") modelMetrics.record(model.id, [[METRIC.guardrailInterventions, MetricUnit.Count, 1]]);
  const turnRecord = { requestId: request.requestId, at, userText: request.message, assistantText: answerText, modelId: model.id, stopReason };
  await recordTurn(deps, log, sub, conversationId, stopReason === "cancelled" ? { ...turnRecord, cancelled: true } : turnRecord, history.length === 0);

  const total = Math.round(performance.now() - startedAt);
  const firstToken = firstTokenAt === undefined ? null : Math.round(firstTokenAt - startedAt);
  relay.send({ type: "done", conversationId, stopReason, cached: false, usage, latencyMs: { firstToken, total } });

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

function deadlineSignal(afterMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineReached()), Math.max(0, afterMs));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
