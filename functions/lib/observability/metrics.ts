/**
 * Metric names (DESIGN 7) and per-model recording. Metrics leave as EMF log lines; nothing
 * calls CloudWatch's API on the hot path.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export const METRIC = {
  inputTokens: "InputTokens",
  outputTokens: "OutputTokens",
  firstTokenLatency: "FirstTokenLatency",
  responseLatency: "ResponseLatency",
  cacheHits: "CacheHits",
  limitRefusals: "LimitRefusals",
  modelErrors: "ModelErrors",
  modelThrottles: "ModelThrottles",
  /** Calls refused because the account may not use the model (AccessDeniedException). */
  modelAccessDenied: "ModelAccessDenied",
  guardrailInterventions: "GuardrailInterventions",
  inboundEvents: "InboundEvents",
  refusedSubscriptions: "RefusedSubscriptions",
  deadLetters: "DeadLetteredRequests",
} as const;

type MetricName = (typeof METRIC)[keyof typeof METRIC];
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Metrics with a ModelId dimension, one set per model kept for the container's life: a
 * turn's figures leave as one EMF line, and nothing is built per request. Recording is
 * synchronous, so events of one batch answered side by side never mix their figures.
 */
export class ModelMetrics {
  private readonly byModel = new Map<string, Metrics>();

  constructor(private readonly options: { namespace: string; serviceName: string }) {}

  record(modelId: string, entries: readonly (readonly [MetricName, Unit, number])[]): void {
    let metrics = this.byModel.get(modelId);
    if (!metrics) this.byModel.set(modelId, (metrics = new Metrics({ ...this.options, defaultDimensions: { ModelId: modelId } })));
    for (const [name, unit, value] of entries) metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
  }
}

export { MetricUnit };
