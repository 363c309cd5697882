/**
 * Lambda: supported runtimes on Graviton, bounded cost per invocation, logs that expire, and
 * asynchronous invocations that neither retry for hours nor vanish silently.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asyncInvokedFunctions, ofType, referencing, TYPES } from "../support/stack-graph";
import { isRecord, withRemedy } from "../support/values";

export interface RuntimeConfig {
  approvedRuntimes: string[];
}

export const lambdaApprovedRuntime: ResourceValidationPolicy = {
  name: "lambda-approved-runtime",
  description: "Lambda functions use an approved, supported runtime.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set `runtime` to one of approvedRuntimes (the gateway targets nodejs22.x).",
  configSchema: {
    properties: {
      approvedRuntimes: { type: "array", items: { type: "string" }, default: ["nodejs22.x"], description: "Runtimes functions may use." },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.function || args.props.packageType === "Image") return;
    const { approvedRuntimes } = args.getConfig<RuntimeConfig>();
    const runtime = args.props.runtime;
    if (!approvedRuntimes.includes(runtime)) {
      reportViolation(withRemedy(`runtime is ${runtime === undefined ? "not set" : `"${runtime}"`}; approved: ${approvedRuntimes.join(", ")}`, "set runtime to an approved one"));
    }
  },
};

export const lambdaArm64: ResourceValidationPolicy = {
  name: "lambda-arm64",
  description: "Lambda functions run on arm64 (Graviton): cheaper per GB-second for the same work.",
  enforcementLevel: "mandatory",
  severity: "low",
  remediationSteps: 'Set `architectures: ["arm64"]` (the bundles are plain JavaScript).',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.function) return;
    const architectures: unknown = args.props.architectures;
    if (!Array.isArray(architectures) || architectures.length !== 1 || architectures[0] !== "arm64") {
      reportViolation(withRemedy(`architectures is ${JSON.stringify(architectures ?? ["x86_64"])}`, 'set architectures to ["arm64"]'));
    }
  },
};

export interface SizeConfig {
  maxTimeoutSeconds: number;
  maxMemoryMb: number;
}

export const lambdaBoundedTimeoutMemory: ResourceValidationPolicy = {
  name: "lambda-bounded-timeout-memory",
  description: "Lambda timeouts and memory sizes stay within the stack's bounds.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Lower `timeout`/`memorySize` (worker: ai-gateway:worker.timeoutSeconds / memoryMb) or raise the bound in the policy config deliberately.",
  configSchema: {
    properties: {
      maxTimeoutSeconds: { type: "integer", minimum: 1, maximum: 900, default: 900, description: "The longest timeout a function may set, in seconds." },
      maxMemoryMb: { type: "integer", minimum: 128, maximum: 10240, default: 1024, description: "The most memory a function may set, in MB." },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.function) return;
    const { maxTimeoutSeconds, maxMemoryMb } = args.getConfig<SizeConfig>();
    // Unset values are Lambda's defaults: 3 s and 128 MB.
    const timeout = args.props.timeout ?? 3;
    const memory = args.props.memorySize ?? 128;
    if (timeout > maxTimeoutSeconds) {
      reportViolation(withRemedy(`timeout is ${timeout} s, above the bound of ${maxTimeoutSeconds} s`, "lower timeout"));
    }
    if (memory > maxMemoryMb) {
      reportViolation(withRemedy(`memorySize is ${memory} MB, above the bound of ${maxMemoryMb} MB`, "lower memorySize"));
    }
  },
};

export const lambdaLogGroupRetention: StackValidationPolicy = {
  name: "lambda-log-group-retention",
  description: "Every Lambda function logs to a log group the stack manages, with retention set.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Create an aws.cloudwatch.LogGroup with retentionInDays and point the function's loggingConfig.logGroup at it.",
  validateStack: (args, reportViolation) => {
    const groups = ofType(args.resources, TYPES.logGroup);
    for (const fn of ofType(args.resources, TYPES.function)) {
      const configured = isRecord(fn.props.loggingConfig) ? fn.props.loggingConfig.logGroup : undefined;
      const groupName = configured ?? `/aws/lambda/${fn.props.name ?? fn.name}`;
      const group = groups.find((g) => g.props.name === groupName);
      if (!group) {
        reportViolation(withRemedy(`function ${fn.name} logs to "${groupName}", which this stack does not manage, so its logs never expire`, "create the log group with retention and set loggingConfig.logGroup"), fn.urn);
      } else if (!group.props.retentionInDays) {
        reportViolation(withRemedy(`function ${fn.name} logs to "${groupName}", which keeps logs forever`, "set retentionInDays on the log group"), fn.urn);
      }
    }
  },
};

export interface AsyncConfig {
  maxEventAgeSeconds: number;
  maxRetryAttempts: number;
}

export const lambdaAsyncFailureHandling: StackValidationPolicy = {
  name: "lambda-async-failure-handling",
  description: "Asynchronously invoked functions have an event-invoke config with an on-failure destination, a bounded event age and bounded retries.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Add an aws.lambda.FunctionEventInvokeConfig with destinationConfig.onFailure (an encrypted SQS queue), maximumEventAgeInSeconds and maximumRetryAttempts within the bounds.",
  configSchema: {
    properties: {
      maxEventAgeSeconds: { type: "integer", minimum: 60, maximum: 21600, default: 900, description: "The oldest an asynchronous event may grow before Lambda drops it to the failure destination, in seconds." },
      maxRetryAttempts: { type: "integer", minimum: 0, maximum: 2, default: 0, description: "The most times Lambda may retry a failed asynchronous invocation." },
    },
  },
  validateStack: (args, reportViolation) => {
    const { maxEventAgeSeconds, maxRetryAttempts } = args.getConfig<AsyncConfig>();
    for (const { fn, via } of asyncInvokedFunctions(args.resources)) {
      const configs = referencing(args.resources, TYPES.invokeConfig, "functionName", fn);
      if (!configs.length) {
        reportViolation(withRemedy(`function ${fn.name} is invoked asynchronously (${via}) but has no event-invoke config, so failures retry for up to 6 hours and then vanish`, "add a FunctionEventInvokeConfig"), fn.urn);
      }
      for (const c of configs) {
        const onFailure = isRecord(c.props.destinationConfig) ? c.props.destinationConfig.onFailure : undefined;
        if (!isRecord(onFailure) || !onFailure.destination) {
          reportViolation(withRemedy(`function ${fn.name}: event-invoke config ${c.name} has no on-failure destination`, "set destinationConfig.onFailure.destination to an encrypted SQS queue"), c.urn);
        }
        const age = c.props.maximumEventAgeInSeconds;
        if (age === undefined || age > maxEventAgeSeconds) {
          reportViolation(withRemedy(`function ${fn.name}: maximumEventAgeInSeconds is ${age ?? "unset (6 hours)"}, above ${maxEventAgeSeconds}`, "set a short maximumEventAgeInSeconds"), c.urn);
        }
        const retries = c.props.maximumRetryAttempts;
        if (retries === undefined || retries > maxRetryAttempts) {
          reportViolation(withRemedy(`function ${fn.name}: maximumRetryAttempts is ${retries ?? "unset (2)"}, above ${maxRetryAttempts}`, "set maximumRetryAttempts explicitly"), c.urn);
        }
      }
    }
  },
};

export const lambdaPolicies = [lambdaApprovedRuntime, lambdaArm64, lambdaBoundedTimeoutMemory, lambdaLogGroupRetention, lambdaAsyncFailureHandling];
