/**
 * Metric names (DESIGN 7) and per-model recording. Metrics leave as EMF log lines; nothing
 * calls CloudWatch's API on the hot path. A request's metrics carry its ModelId dimension, so
 * they go out as single metrics rather than through the shared, per-invocation set (events in
 * one batch may use different models).
 */
import { MetricUnit, type Metrics } from "@aws-lambda-powertools/metrics";

export const METRIC = {
  inputTokens: "InputTokens",
  outputTokens: "OutputTokens",
  firstTokenLatency: "FirstTokenLatency",
  responseLatency: "ResponseLatency",
  cacheHits: "CacheHits",
  limitRefusals: "LimitRefusals",
  modelErrors: "ModelErrors",
  modelThrottles: "ModelThrottles",
  guardrailInterventions: "GuardrailInterventions",
  inboundEvents: "InboundEvents",
  refusedSubscriptions: "RefusedSubscriptions",
  deadLetters: "DeadLetteredRequests",
} as const;

type MetricName = (typeof METRIC)[keyof typeof METRIC];

export function recordModelMetrics(
  metrics: Metrics,
  modelId: string,
  entries: readonly (readonly [MetricName, (typeof MetricUnit)[keyof typeof MetricUnit], number])[],
): void {
  for (const [name, unit, value] of entries) {
    metrics.singleMetric().addDimension("ModelId", modelId).addMetric(name, unit, value);
  }
}

export { MetricUnit };
