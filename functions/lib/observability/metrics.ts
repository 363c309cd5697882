/**
 * Metric names and dimensions (DESIGN 7), defined once: the worker emits them, and the
 * dashboard and alarms (components/) reference them by these constants. Metrics leave as EMF
 * log lines; nothing calls CloudWatch's API on the hot path.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export const METRIC = {
  /** Per model (ModelId): a turn's figures. */
  inputTokens: "InputTokens",
  outputTokens: "OutputTokens",
  firstTokenLatency: "FirstTokenLatency",
  responseLatency: "ResponseLatency",
  /** Per model (ModelId): emitted by the prepared-response cache. */
  cacheHits: "CacheHits",
  /** Per model (ModelId) or per tier (Tier): emitted by metering's admission. */
  limitRefusals: "LimitRefusals",
  modelErrors: "ModelErrors",
  modelThrottles: "ModelThrottles",
  /** Calls refused because the account may not use the model (AccessDeniedException). */
  modelAccessDenied: "ModelAccessDenied",
  /** Per model (ModelId): emitted when the Bedrock guardrail intervened. */
  guardrailInterventions: "GuardrailInterventions",
  /** Per invocation (service only). */
  inboundEvents: "InboundEvents",
  refusedSubscriptions: "RefusedSubscriptions",
  deadLetters: "DeadLetteredRequests",
  /** Analytics records Firehose did not take (the turns themselves were answered). */
  analyticsDeliveryFailures: "AnalyticsDeliveryFailures",
  /** Per-model figures Powertools refused to record (the turn went on). */
  metricsFailures: "MetricsNotRecorded",
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Powertools adds `service` to every metric's dimensions, so a CloudWatch query must name it
 * too: per-model metrics live under [service, ModelId], per-invocation ones under [service].
 */
export const METRICS_SERVICE = "ai-gateway";
export const DIMENSION = { service: "service", modelId: "ModelId", tier: "Tier" } as const;

/**
 * Metrics with a ModelId dimension, one set per model kept for the container's life: a
 * turn's figures leave as one EMF line, and nothing is built per request. Recording is
 * synchronous, so events of one batch answered side by side never mix their figures.
 * Recording never throws: a metrics failure must not break a chat turn.
 */
export class ModelMetrics {
  private readonly byModel = new Map<string, Metrics>();

  constructor(
    private readonly options: { namespace: string; serviceName: string },
    private readonly onFailure: (error: unknown) => void = () => undefined,
  ) {}

  record(modelId: string, entries: readonly (readonly [MetricName, Unit, number])[]): void {
    try {
      let metrics = this.byModel.get(modelId);
      if (!metrics) this.byModel.set(modelId, (metrics = new Metrics({ ...this.options, defaultDimensions: { [DIMENSION.modelId]: modelId } })));
      for (const [name, unit, value] of entries) metrics.addMetric(name, unit, value);
      metrics.publishStoredMetrics();
    } catch (err) {
      // Drop the half-recorded figures so they do not ride along with the next turn's.
      this.byModel.get(modelId)?.clearMetrics();
      this.onFailure(err);
    }
  }
}

/**
 * The worker's answer to per-model figures Powertools refused to record: a warning and a
 * count on the invocation's metrics (MetricsNotRecorded); the turn goes on. Never throws.
 */
export function reportMetricsFailure(logger: Pick<Logger, "warn">, metrics: Pick<Metrics, "addMetric">) {
  return (err: unknown): void => {
    try {
      logger.warn("metrics not recorded", { error_name: (err as Error)?.name });
      metrics.addMetric(METRIC.metricsFailures, MetricUnit.Count, 1);
    } catch {
      // Reporting the failure must not fail the turn either.
    }
  };
}

export { MetricUnit };
