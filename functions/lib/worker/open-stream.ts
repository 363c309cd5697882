/**
 * Opening a model stream, falling back along `fallbackModels` when a model is throttled,
 * unavailable or not enabled for the account before it produced anything. A stream counts as
 * open once its first part arrived, so the `start` event names the model that really answers.
 * The turn's deadline ends the search: no fallback runs past it.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { converseStream, type ConversePart, type ConverseRequest } from "../bedrock/converse.js";
import { isModelNotEnabled, warrantsFallback } from "../bedrock/errors.js";
import type { GatewayConfig, ModelConfig, TierConfig } from "../config/schema.js";
import { METRIC, MetricUnit, type ModelMetrics } from "../observability/metrics.js";
import { failureName, GatewayError, toGatewayError } from "../protocol/errors.js";
import { allowedModels } from "../routing/tier.js";

export interface OpenStream {
  model: ModelConfig;
  /** The parts, the first one included. */
  parts: AsyncGenerator<ConversePart>;
}

/**
 * The models to try, in order: the chosen one, then (only when the request named no model:
 * an explicit choice is respected) the stack's fallbacks the tier may use.
 */
export function modelCandidates(config: GatewayConfig, tier: TierConfig, chosen: ModelConfig, named: boolean): ModelConfig[] {
  if (named) return [chosen];
  const allowed = allowedModels(config, tier);
  const fallbacks = config.fallbackModels
    .map((id) => allowed.find((m) => m.id === id))
    .filter((m): m is ModelConfig => m !== undefined && m.id !== chosen.id);
  return [chosen, ...fallbacks];
}

export async function openModelStream(
  deps: { bedrock: BedrockRuntimeClient; modelMetrics: ModelMetrics; modelIdleTimeoutMs?: number },
  candidates: readonly ModelConfig[],
  request: (model: ModelConfig) => ConverseRequest,
  log: Logger,
  signal?: AbortSignal,
): Promise<OpenStream> {
  let lastFailure: GatewayError | undefined;
  for (const [i, model] of candidates.entries()) {
    const parts = converseStream(deps.bedrock, request(model), { idleTimeoutMs: deps.modelIdleTimeoutMs ?? 60_000, signal });
    try {
      const first = await parts.next();
      return { model, parts: prepend(first, parts) };
    } catch (err) {
      // Cancelled or out of time: no model failed, and no fallback could answer either.
      if (signal?.aborted) throw toGatewayError(signal.reason);
      lastFailure = toGatewayError(err);
      recordModelFailure(deps.modelMetrics, model.id, lastFailure);
      const next = candidates[i + 1];
      if (isModelNotEnabled(lastFailure)) {
        // Only an administrator can fix this; say which model and what to do, loudly.
        log.error("model not enabled for this account: enable access to it in Bedrock (Marketplace subscription, first-use form) or remove it from models", {
          model_id: model.id,
          error_name: failureName(err),
          fallback_model_id: next?.id,
        });
      } else {
        log.warn("model call failed before the answer began", { model_id: model.id, code: lastFailure.code, error_name: failureName(err), fallback_model_id: next?.id });
      }
      if (!warrantsFallback(lastFailure) || !next) throw lastFailure;
    }
  }
  throw lastFailure ?? new GatewayError("internal_error", "No model to answer with.");
}

export function recordModelFailure(metrics: ModelMetrics, modelId: string, failure: GatewayError): void {
  const name = failure.code === "model_throttled" ? METRIC.modelThrottles : isModelNotEnabled(failure) ? METRIC.modelAccessDenied : METRIC.modelErrors;
  metrics.record(modelId, [[name, MetricUnit.Count, 1]]);
}

async function* prepend(first: IteratorResult<ConversePart>, rest: AsyncGenerator<ConversePart>): AsyncGenerator<ConversePart> {
  if (first.done) return;
  yield first.value;
  yield* rest;
}
