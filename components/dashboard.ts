/**
 * The operators' CloudWatch dashboard: the gateway's own metrics per model (tokens, latency,
 * cache hits, refusals, guardrail interventions, model errors and throttles), the worker's
 * Lambda health, the dead-letter queue and analytics delivery. Metric names and dimensions
 * come from functions/lib/observability/metrics.ts, the ones the worker emits.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DIMENSION, METRIC, METRICS_SERVICE, type MetricName } from "../functions/lib/observability/metrics.js";

export interface DashboardArgs {
  /** The dashboard's name (unique in the account): `ai-gateway-<stack>`. */
  dashboardName: string;
  region: string;
  /** `observability.metricsNamespace`. */
  namespace: string;
  /** The allowlisted model ids: one line per model in each per-model widget. */
  modelIds: string[];
  workerName: pulumi.Input<string>;
  /** Drawn as a line on the duration widget. */
  workerTimeoutSeconds: number;
  /** Drawn as a line on the concurrency widget. */
  workerReservedConcurrency: number;
  deadLetterConsumerName: pulumi.Input<string>;
  failureQueueName: pulumi.Input<string>;
  /** The analytics delivery stream, when analytics is on. @default none */
  analyticsStreamName?: pulumi.Input<string>;
  /** Seconds per datapoint. @default 300 */
  periodSeconds?: number;
}

type MetricLine = pulumi.Input<string | Record<string, unknown>>[];

interface Widget {
  title: string;
  metrics: MetricLine[];
  lines?: { label: string; value: number }[];
}

export class Dashboard extends pulumi.ComponentResource {
  readonly dashboard: aws.cloudwatch.Dashboard;
  /** The dashboard in the CloudWatch console. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Dashboard", name, {}, opts);
    const period = args.periodSeconds ?? 300;
    const perModel = (metric: MetricName, stat: string, label = "") =>
      args.modelIds.map((id): MetricLine => [args.namespace, metric, DIMENSION.service, METRICS_SERVICE, DIMENSION.modelId, id, { stat, label: `${label}${id}` }]);
    const gatewayWide = (metric: MetricName, stat: string): MetricLine => [args.namespace, metric, DIMENSION.service, METRICS_SERVICE, { stat, label: metric }];
    const lambda = (metric: string, fn: pulumi.Input<string>, stat: string, label: string): MetricLine => ["AWS/Lambda", metric, "FunctionName", fn, { stat, label }];
    const queue = (metric: string, stat: string, label: string): MetricLine => ["AWS/SQS", metric, "QueueName", args.failureQueueName, { stat, label }];

    const widgets: Widget[] = [
      { title: "Tokens by model", metrics: [...perModel(METRIC.inputTokens, "Sum", "in "), ...perModel(METRIC.outputTokens, "Sum", "out ")] },
      { title: "Time to first token by model (p95, ms)", metrics: perModel(METRIC.firstTokenLatency, "p95") },
      { title: "Response latency by model (p95, ms)", metrics: perModel(METRIC.responseLatency, "p95") },
      {
        title: "Cache hits, limit refusals, guardrail interventions",
        metrics: [
          ...perModel(METRIC.cacheHits, "Sum", "cache hits "),
          ...perModel(METRIC.limitRefusals, "Sum", "refused "),
          ...perModel(METRIC.guardrailInterventions, "Sum", "guardrail "),
        ],
      },
      { title: "Model errors and throttles", metrics: [...perModel(METRIC.modelErrors, "Sum", "errors "), ...perModel(METRIC.modelThrottles, "Sum", "throttled ")] },
      {
        title: "Requests",
        metrics: [gatewayWide(METRIC.inboundEvents, "Sum"), lambda("AsyncEventsDropped", args.workerName, "Sum", "dropped before the worker ran"), gatewayWide(METRIC.deadLetters, "Sum")],
      },
      {
        title: "Lambda errors and throttles",
        metrics: [
          lambda("Errors", args.workerName, "Sum", "worker errors"),
          lambda("Throttles", args.workerName, "Sum", "worker throttles"),
          lambda("Errors", args.deadLetterConsumerName, "Sum", "dead-letter consumer errors"),
        ],
      },
      {
        title: "Worker duration (ms)",
        metrics: [lambda("Duration", args.workerName, "p50", "p50"), lambda("Duration", args.workerName, "p99", "p99"), lambda("Duration", args.workerName, "Maximum", "max")],
        lines: [{ label: "timeout", value: args.workerTimeoutSeconds * 1000 }],
      },
      {
        title: "Worker concurrency",
        metrics: [lambda("ConcurrentExecutions", args.workerName, "Maximum", "concurrent executions")],
        lines: [{ label: "reserved concurrency", value: args.workerReservedConcurrency }],
      },
      {
        title: "Dead-letter queue",
        metrics: [queue("ApproximateNumberOfMessagesVisible", "Maximum", "messages waiting"), queue("ApproximateAgeOfOldestMessage", "Maximum", "oldest (s)")],
      },
      ...(args.analyticsStreamName
        ? [
            {
              title: "Analytics delivery",
              metrics: [
                ["AWS/Firehose", "IncomingRecords", "DeliveryStreamName", args.analyticsStreamName, { stat: "Sum", label: "records in" }],
                ["AWS/Firehose", "DeliveryToS3.Records", "DeliveryStreamName", args.analyticsStreamName, { stat: "Sum", label: "records to S3" }],
                gatewayWide(METRIC.analyticsDeliveryFailures, "Sum"),
              ],
            } satisfies Widget,
          ]
        : []),
    ];

    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: args.dashboardName,
        dashboardBody: pulumi.jsonStringify({
          widgets: widgets.map((w, i) => ({
            type: "metric",
            x: (i % 2) * 12,
            y: Math.floor(i / 2) * 6,
            width: 12,
            height: 6,
            properties: {
              title: w.title,
              region: args.region,
              view: "timeSeries",
              stacked: false,
              period,
              metrics: w.metrics,
              ...(w.lines ? { annotations: { horizontal: w.lines } } : {}),
            },
          })),
        }),
      },
      { parent: this },
    );
    this.url = pulumi.interpolate`https://${args.region}.console.aws.amazon.com/cloudwatch/home?region=${args.region}#dashboards:name=${this.dashboard.dashboardName}`;
    this.registerOutputs({ url: this.url });
  }
}
