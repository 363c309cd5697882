/**
 * One chat turn: pick the model, stream the answer from Bedrock, relay it, report usage.
 *
 * Later capabilities slot in around the model call (`openModelStream` and the stream loop):
 * metering admits before it and settles after it, the cache answers instead of it, history
 * feeds its messages and records its result.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { DEADLINE_REASON, isRetryable } from "../bedrock/errors.js";
import { TurnMetering } from "../metering/turn.js";
import { METRIC, MetricUnit } from "../observability/metrics.js";
import type { ChatRequest } from "../protocol/inbound.js";
import { GatewayError, toGatewayError } from "../protocol/errors.js";
import type { TokenCounts } from "../protocol/outbound.js";
import type { ResponseRelay } from "../relay/relay.js";
import { boundedMaxTokens, resolveModel, type ResolvedTier } from "../routing/tier.js";
import type { WorkerDeps } from "./deps.js";
import { modelCandidates, openModelStream, recordModelFailure, type OpenStream } from "./open-stream.js";

export interface ChatTurn {
  /** The caller's Cognito sub. */
  userId: string;
  request: ChatRequest;
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
    metrics: deps.metrics,
  });
  try {
    await streamChat(deps, turn, metering, deadline?.signal);
  } finally {
    deadline?.clear();
    // However the turn ended, what it consumed is charged and its reservation released (I4).
    await metering.settle();
  }
}

async function streamChat(deps: WorkerDeps, turn: ChatTurn, metering: TurnMetering, deadline: AbortSignal | undefined): Promise<void> {
  const { config, modelMetrics } = deps;
  const { request, tier, relay, log } = turn;
  const chosen = resolveModel(config, tier.tier, request.modelId);
  const conversationId = request.conversationId;
  const startedAt = performance.now();
  let firstTokenAt: number | undefined;
  let stopReason = "end_turn";
  let usage: TokenCounts = { inputTokens: 0, outputTokens: 0 };
  let outputChars = 0;
  if (config.observability.logPreviews) log.info("prompt preview", { preview: request.message.slice(0, 80) });

  const candidates = modelCandidates(config, tier.tier, chosen, request.modelId !== undefined);
  const messages = [{ role: "user" as const, text: request.message }];
  const wantedTokens = Math.max(...candidates.map((model) => boundedMaxTokens(tier.tier, model, request.maxTokens)));
  const grantedTokens = await metering.admit(config.systemPrompt, messages, wantedTokens);
  let opened: OpenStream;
  try {
    opened = await openModelStream(
      deps,
      candidates,
      (model) => ({
        modelId: model.id,
        system: config.systemPrompt,
        messages,
        maxTokens: Math.min(grantedTokens, boundedMaxTokens(tier.tier, model, request.maxTokens)),
        temperature: request.temperature,
      }),
      log,
      deadline,
    );
  } catch (err) {
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
    const failure = toGatewayError(err);
    // Stopped at the deadline: the model did not fail.
    if (!deadline?.aborted) recordModelFailure(modelMetrics, model.id, failure);
    log.warn("model stream failed", { code: failure.code, error_name: (err as Error)?.name, output_chars: outputChars });
    throw failure;
  }

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

function deadlineSignal(afterMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineReached()), Math.max(0, afterMs));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
