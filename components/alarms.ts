/**
 * Paging an operator when users are being failed: worker errors and throttles, requests
 * dropped before the worker ran, dead letters nobody drains, answers close to the timeout.
 * Everything goes to one SNS topic with an e-mail subscription (confirm it from the inbox).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmsArgs {
  /** Who is told; the subscription must be confirmed from this inbox. */
  email: string;
  /** The chat worker's function name. */
  workerName: pulumi.Input<string>;
  /** The worker's timeout in seconds; latency alarms fire at 80% of it. */
  workerTimeoutSeconds: number;
  /** The dead-letter consumer's function name. */
  deadLetterConsumerName: pulumi.Input<string>;
  /** The worker's on-failure queue name. */
  failureQueueName: pulumi.Input<string>;
  /** How long a dead letter may wait before someone is told. @default 600 */
  deadLetterMaxAgeSeconds?: number;
}

interface AlarmSpec {
  key: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic?: string;
  extendedStatistic?: string;
  threshold: number;
}

export class Alarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Alarms", name, {}, opts);
    const deadLetterMaxAgeSeconds = args.deadLetterMaxAgeSeconds ?? 600;

    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key,
    // and alarm notifications carry metric names, never user data.
    this.topic = new aws.sns.Topic(`${name}-topic`, { displayName: "AI gateway alarms" }, { parent: this });
    new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: "email", endpoint: args.email }, { parent: this });

    const worker = { FunctionName: args.workerName };
    const specs: AlarmSpec[] = [
      { key: "worker-errors", description: "Chat worker invocations failed", namespace: "AWS/Lambda", metricName: "Errors", dimensions: worker, statistic: "Sum", threshold: 1 },
      { key: "worker-throttles", description: "Chat worker throttled (reserved concurrency exhausted)", namespace: "AWS/Lambda", metricName: "Throttles", dimensions: worker, statistic: "Sum", threshold: 1 },
      { key: "requests-dropped", description: "Chat requests dropped before the worker ran", namespace: "AWS/Lambda", metricName: "AsyncEventsDropped", dimensions: worker, statistic: "Sum", threshold: 1 },
      {
        key: "worker-latency",
        description: "Chat worker p99 duration above 80% of its timeout",
        namespace: "AWS/Lambda",
        metricName: "Duration",
        dimensions: worker,
        extendedStatistic: "p99",
        threshold: args.workerTimeoutSeconds * 1000 * 0.8,
      },
      {
        key: "dead-letters-stuck",
        description: "Dead letters are not being delivered to users",
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: args.failureQueueName },
        statistic: "Maximum",
        threshold: deadLetterMaxAgeSeconds,
      },
      {
        key: "dead-letter-consumer-errors",
        description: "The dead-letter consumer failed",
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: args.deadLetterConsumerName },
        statistic: "Sum",
        threshold: 1,
      },
    ];

    this.alarms = specs.map(
      (spec) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.key}`,
          {
            alarmDescription: spec.description,
            namespace: spec.namespace,
            metricName: spec.metricName,
            dimensions: spec.dimensions,
            statistic: spec.statistic,
            extendedStatistic: spec.extendedStatistic,
            period: 300,
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
