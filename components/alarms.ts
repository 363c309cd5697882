/**
 * Paging an operator when users are being failed: worker errors and throttles, model
 * throttles, requests dropped before the worker ran, dead letters piling up or nobody
 * draining them, answers close to the timeout, slow first tokens. Every alarm goes to one SNS
 * topic. The alarms and the topic always exist (their state shows in the console and on the
 * dashboard); the e-mail subscription only when an address is given (confirm it from the inbox).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DIMENSION, METRIC, METRICS_SERVICE } from "../functions/lib/observability/metrics.js";

export interface AlarmsArgs {
  /** Who is told by mail; the subscription must be confirmed from this inbox. @default no subscription */
  email?: string;
  /** The chat worker's function name. */
  workerName: pulumi.Input<string>;
  /** The worker's timeout in seconds; the duration alarm fires at 80% of it. */
  workerTimeoutSeconds: number;
  /** The dead-letter consumer's function name. */
  deadLetterConsumerName: pulumi.Input<string>;
  /** The worker's on-failure queue name. */
  failureQueueName: pulumi.Input<string>;
  /** `observability.metricsNamespace`: where the gateway's own metrics are. */
  metricsNamespace: string;
  /** The allowlisted model ids (model throttles and first-token latency are per model). */
  modelIds: string[];
  /** How long a dead letter may wait before someone is told. @default 600 */
  deadLetterMaxAgeSeconds?: number;
  /** Dead letters waiting at once before someone is told. @default 5 */
  deadLetterMaxDepth?: number;
  /** p99 time to first token, per model, before someone is told. @default 15000 */
  firstTokenP99Ms?: number;
  /** Model throttles in 5 minutes, across models, before someone is told. @default 10 */
  modelThrottlesPer5Min?: number;
}

interface AlarmSpec {
  key: string;
  description: string;
  threshold: number;
  /** One metric... */
  metric?: { namespace: string; metricName: string; dimensions: Record<string, pulumi.Input<string>>; statistic?: string; extendedStatistic?: string };
  /** ...or metric math over several. */
  metricQueries?: aws.types.input.cloudwatch.MetricAlarmMetricQuery[];
}

export class Alarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Alarms", name, {}, opts);
    const { deadLetterMaxAgeSeconds, deadLetterMaxDepth, firstTokenP99Ms, modelThrottlesPer5Min } = {
      deadLetterMaxAgeSeconds: 600,
      deadLetterMaxDepth: 5,
      firstTokenP99Ms: 15_000,
      modelThrottlesPer5Min: 10,
      ...args,
    };

    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key,
    // and alarm notifications carry metric names, never user data.
    this.topic = new aws.sns.Topic(`${name}-topic`, { displayName: "AI gateway alarms" }, { parent: this });
    if (args.email) {
      new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: "email", endpoint: args.email }, { parent: this });
    }

    const worker = { FunctionName: args.workerName };
    const lambda = (metricName: string, dimensions: Record<string, pulumi.Input<string>>, statistic = "Sum") => ({ namespace: "AWS/Lambda", metricName, dimensions, statistic });
    const queue = (metricName: string) => ({ namespace: "AWS/SQS", metricName, dimensions: { QueueName: args.failureQueueName }, statistic: "Maximum" });
    const perModel = (modelId: string) => ({ [DIMENSION.service]: METRICS_SERVICE, [DIMENSION.modelId]: modelId });

    const specs: AlarmSpec[] = [
      { key: "worker-errors", description: "Chat worker invocations failed", metric: lambda("Errors", worker), threshold: 1 },
      { key: "worker-throttles", description: "Chat worker throttled (reserved concurrency exhausted)", metric: lambda("Throttles", worker), threshold: 1 },
      { key: "requests-dropped", description: "Chat requests dropped before the worker ran", metric: lambda("AsyncEventsDropped", worker), threshold: 1 },
      {
        key: "worker-latency",
        description: "Chat worker p99 duration above 80% of its timeout",
        metric: { namespace: "AWS/Lambda", metricName: "Duration", dimensions: worker, extendedStatistic: "p99" },
        threshold: args.workerTimeoutSeconds * 1000 * 0.8,
      },
      { key: "dead-letters-waiting", description: "Requests are piling up in the dead-letter queue", metric: queue("ApproximateNumberOfMessagesVisible"), threshold: deadLetterMaxDepth },
      { key: "dead-letters-stuck", description: "Dead letters are not being delivered to users", metric: queue("ApproximateAgeOfOldestMessage"), threshold: deadLetterMaxAgeSeconds },
      { key: "dead-letter-consumer-errors", description: "The dead-letter consumer failed", metric: lambda("Errors", { FunctionName: args.deadLetterConsumerName }), threshold: 1 },
      {
        key: "model-throttles",
        description: `Bedrock throttled the gateway's model calls (all models, ${METRIC.modelThrottles})`,
        threshold: modelThrottlesPer5Min,
        metricQueries: [
          ...args.modelIds.map((id, i) => ({
            id: `m${i}`,
            returnData: false,
            metric: { namespace: args.metricsNamespace, metricName: METRIC.modelThrottles, dimensions: perModel(id), stat: "Sum", period: 300 },
          })),
          { id: "throttles", expression: `SUM([${args.modelIds.map((_, i) => `m${i}`).join(", ")}])`, label: "model throttles", returnData: true },
        ],
      },
      ...args.modelIds.map((id, i) => ({
        key: `first-token-latency-${i}`,
        description: `p99 time to first token of ${id} above ${firstTokenP99Ms} ms`,
        metric: { namespace: args.metricsNamespace, metricName: METRIC.firstTokenLatency, dimensions: perModel(id), extendedStatistic: "p99" },
        threshold: firstTokenP99Ms,
      })),
    ];

    this.alarms = specs.map(
      (spec) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.key}`,
          {
            alarmDescription: spec.description,
            ...(spec.metric ? { ...spec.metric, period: 300 } : { metricQueries: spec.metricQueries }),
            evaluationPeriods: 1,
            threshold: spec.threshold,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            // No traffic is not a failure.
            treatMissingData: "notBreaching",
            alarmActions: [this.topic.arn],
            okActions: [this.topic.arn],
          },
          { parent: this },
        ),
    );

    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
