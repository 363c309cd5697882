/**
 * One Lambda function of the gateway: its bundled code (with the stack config beside it), an
 * execution role holding exactly the statements its caller grants plus writing its own log
 * group, and that log group with the stack's retention.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { ENV } from "../functions/lib/env.js";
import { functionArchive, HANDLER } from "./lib/bundle.js";
import { assumeRolePolicy, policyDocument, writeLogsStatement, type PolicyStatement } from "./lib/iam.js";

export const LAMBDA_RUNTIME = "nodejs22.x";
export const LAMBDA_ARCHITECTURE = "arm64";

export interface GatewayFunctionArgs {
  /** Entry file relative to the repository root; it must export `handler`. */
  entry: string;
  /** What the function does, shown in the console. */
  description: string;
  /** The validated stack config, bundled as a file (never as env vars: 4 KB cap). */
  config: GatewayConfig;
  /** The stack name, logged by every function. */
  stack: string;
  /** Powertools service name, on every log line and metric. */
  serviceName: string;
  /** Resource names and endpoints only. @default {} */
  environment?: Record<string, pulumi.Input<string>>;
  /** What the function may do besides writing its logs. @default [] */
  statements?: pulumi.Input<PolicyStatement[]>;
  /** Seconds one invocation may run. @default 30 */
  timeoutSeconds?: number;
  /** Memory in MB (CPU grows with it). @default 256 */
  memoryMb?: number;
  /** Concurrent executions kept for (and capped at) this function. @default none */
  reservedConcurrency?: number;
}

export class GatewayFunction extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly policy: aws.iam.RolePolicy;
  readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: GatewayFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:GatewayFunction", name, {}, opts);
    const { timeoutSeconds, memoryMb, environment, statements } = {
      timeoutSeconds: 30,
      memoryMb: 256,
      environment: {},
      statements: [],
      ...args,
    };

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { namePrefix: `/aws/lambda/${name}-`, retentionInDays: args.config.observability.logRetentionDays },
      { parent: this },
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      { description: `Execution role of ${name}`, assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com") },
      { parent: this },
    );

    this.policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: policyDocument(
          pulumi.output(statements).apply((granted) => [writeLogsStatement(this.logGroup.arn), ...granted]),
        ),
      },
      { parent: this },
    );

    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        description: args.description,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        handler: HANDLER,
        code: functionArchive(args.entry, args.config),
        role: this.role.arn,
        timeout: timeoutSeconds,
        memorySize: memoryMb,
        reservedConcurrentExecutions: args.reservedConcurrency,
        // JSON platform lines (START/REPORT) sit beside Powertools' JSON lines for Logs Insights.
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
        environment: {
          variables: {
            [ENV.stack]: args.stack,
            [ENV.serviceName]: args.serviceName,
            [ENV.metricsNamespace]: args.config.observability.metricsNamespace,
            [ENV.logLevel]: "INFO",
            ...environment,
          },
        },
      },
      // The first invocation must find its permissions and its log group in place.
      { parent: this, dependsOn: [this.policy, this.logGroup] },
    );

    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn, logGroupName: this.logGroup.name });
  }
}
