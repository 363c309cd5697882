/**
 * The chat worker and what bounds its asynchronous delivery. AppSync invokes it with
 * InvocationType=Event, and Lambda would retry a throttled event for up to six hours; here an
 * event is tried once, dropped when older than `worker.maximumEventAgeSeconds`, and every drop
 * lands on an encrypted, short-lived SQS queue whose consumer tells the user with an `error`
 * event on their outbound channel.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { ENV } from "../functions/lib/env.js";
import { CONVERSATIONS_TABLE } from "../functions/lib/tables.js";
import { GatewayFunction } from "./gatewayFunction.js";
import {
  applyGuardrailStatement,
  consumeQueueStatement,
  invokeModelsStatement,
  policyDocument,
  publishEventsStatement,
  putRecordsStatement,
  sendMessageStatement,
  tableIndexArn,
  tableItemsStatement,
} from "./lib/iam.js";

/** Powertools' DynamoDB persistence layer uses exactly these. */
const IDEMPOTENCY_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem"];
/**
 * Metering (functions/lib/metering/store.ts) reads the admission record, puts it on its
 * version, and settles with TransactWriteItems of Updates (IAM checks each as UpdateItem).
 */
export const USAGE_ACTIONS = ["GetItem", "PutItem", "UpdateItem"];
/** History (turns written in a transaction, deletes in batches) and running-answer records. */
const CONVERSATION_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchWriteItem"];
/** The worker only reads prepared responses; the program and operators write them. */
const CACHE_ACTIONS = ["GetItem", "BatchGetItem"];

export interface ChatWorkerArgs {
  /** The validated stack config; `worker.*` sizes the function, and it is bundled with it. */
  config: GatewayConfig;
  /** The Pulumi stack name, logged by both functions. */
  stack: string;
  /** `https://<HTTP host>/event` of the Events API. */
  eventsHttpEndpoint: pulumi.Input<string>;
  /** IAM ARN of the Outbound namespace: the only place the worker and the consumer publish. */
  outboundNamespaceArn: pulumi.Input<string>;
  /** Profile and foundation-model ARNs of the allowlist (lib/bedrockArns.ts): all the worker may invoke. */
  bedrockArns: pulumi.Input<pulumi.Input<string>[]>;
  /** The idempotency table (name for the environment, ARN for IAM). */
  idempotencyTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** The analytics delivery stream the worker sends one record per turn to. @default none: analytics off */
  analyticsStream?: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** The usage table (token metering): name for the environment, ARN for IAM. */
  usageTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** Conversation history and running-answer records: read and written. */
  conversationsTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** Prepared responses: read only. */
  cacheTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** The guardrail every model call names, and the only one the worker may apply. @default none */
  guardrail?: { id: pulumi.Input<string>; version: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** Entry files. @default functions/chatWorker.ts and functions/dlqConsumer.ts */
  entries?: { worker?: string; deadLetterConsumer?: string };
  /** How long an undeliverable request waits for its consumer. @default 3600 */
  failureRetentionSeconds?: number;
  /** Dead letters handed to the consumer at once. @default 10 */
  consumerBatchSize?: number;
}

export class ChatWorker extends pulumi.ComponentResource {
  readonly worker: GatewayFunction;
  readonly failureQueue: aws.sqs.Queue;
  readonly invokeConfig: aws.lambda.FunctionEventInvokeConfig;
  readonly deadLetterConsumer: GatewayFunction;

  constructor(name: string, args: ChatWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:ChatWorker", name, {}, opts);
    const { config, stack } = args;
    const { failureRetentionSeconds, consumerBatchSize } = { failureRetentionSeconds: 3600, consumerBatchSize: 10, ...args };
    const consumerTimeoutSeconds = 30;

    this.worker = new GatewayFunction(
      `${name}-chat`,
      {
        entry: args.entries?.worker ?? "functions/chatWorker.ts",
        description: "Answers chat messages published on Inbound-Messages",
        config,
        stack,
        serviceName: "chat-worker",
        timeoutSeconds: config.worker.timeoutSeconds,
        memoryMb: config.worker.memoryMb,
        reservedConcurrency: config.worker.reservedConcurrency,
        environment: {
          [ENV.eventsHttpEndpoint]: args.eventsHttpEndpoint,
          [ENV.idempotencyTable]: args.idempotencyTable.name,
          ...(args.analyticsStream ? { [ENV.analyticsStream]: args.analyticsStream.name } : {}),
          [ENV.usageTable]: args.usageTable.name,
          [ENV.conversationsTable]: args.conversationsTable.name,
          [ENV.cacheTable]: args.cacheTable.name,
          ...(args.guardrail ? { [ENV.guardrailId]: args.guardrail.id, [ENV.guardrailVersion]: args.guardrail.version } : {}),
        },
        statements: pulumi.output(args.bedrockArns).apply((arns) => [
          invokeModelsStatement(arns),
          publishEventsStatement(args.outboundNamespaceArn),
          tableItemsStatement([args.idempotencyTable.arn], IDEMPOTENCY_ACTIONS),
          ...(args.analyticsStream ? [putRecordsStatement(args.analyticsStream.arn)] : []),
          tableItemsStatement([args.usageTable.arn], USAGE_ACTIONS, "MeterUsage"),
          tableItemsStatement(
            [args.conversationsTable.arn, ...(CONVERSATIONS_TABLE.indexes ?? []).map((i) => tableIndexArn(args.conversationsTable.arn, i.name))],
            CONVERSATION_ACTIONS,
            "UseConversationsTable",
          ),
          tableItemsStatement([args.cacheTable.arn], CACHE_ACTIONS, "ReadPreparedResponses"),
          ...(args.guardrail ? [applyGuardrailStatement(args.guardrail.arn)] : []),
        ]),
      },
      { parent: this },
    );

    // Holds the original event (prompt and token included): encrypted, and gone within the hour.
    this.failureQueue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: failureRetentionSeconds,
        // Lambda's advice for SQS sources: at least six times the consumer's timeout.
        visibilityTimeoutSeconds: consumerTimeoutSeconds * 6,
      },
      { parent: this },
    );

    // Lambda checks the destination permission when the invoke config is created.
    const sendFailures = new aws.iam.RolePolicy(
      `${name}-send-failures`,
      { role: this.worker.role.id, policy: policyDocument([sendMessageStatement(this.failureQueue.arn)]) },
      { parent: this },
    );

    this.invokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.worker.function.name,
        maximumRetryAttempts: 0,
        maximumEventAgeInSeconds: config.worker.maximumEventAgeSeconds,
        destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
      },
      { parent: this, dependsOn: [sendFailures] },
    );

    this.deadLetterConsumer = new GatewayFunction(
      `${name}-dead-letters`,
      {
        entry: args.entries?.deadLetterConsumer ?? "functions/dlqConsumer.ts",
        description: "Tells users about chat requests that failed before an answer",
        config,
        stack,
        serviceName: "dead-letter-notifier",
        timeoutSeconds: consumerTimeoutSeconds,
        environment: { [ENV.eventsHttpEndpoint]: args.eventsHttpEndpoint },
        statements: [consumeQueueStatement(this.failureQueue.arn), publishEventsStatement(args.outboundNamespaceArn)],
      },
      { parent: this },
    );

    new aws.lambda.EventSourceMapping(
      `${name}-dead-letters-source`,
      {
        eventSourceArn: this.failureQueue.arn,
        functionName: this.deadLetterConsumer.function.arn,
        batchSize: consumerBatchSize,
        // A record that could not be delivered goes back alone, not with its whole batch.
        functionResponseTypes: ["ReportBatchItemFailures"],
      },
      // Creating the mapping fails unless the role can already read the queue.
      { parent: this, dependsOn: [this.deadLetterConsumer.policy] },
    );

    this.registerOutputs({ workerArn: this.worker.function.arn, failureQueueUrl: this.failureQueue.url });
  }
}
