/**
 * IAM documents as plain data. Every statement names its actions and resources explicitly:
 * the gateway's roles never hold a `*` action, and never a `*` resource on the services that
 * carry user data (Bedrock, AppSync, DynamoDB, SQS). Policy tests and the policy pack read
 * these documents back out of the registered resources.
 */
import * as pulumi from "@pulumi/pulumi";

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: pulumi.Input<string>[];
  Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

export interface TrustStatement {
  Effect: "Allow";
  Principal: { Service: string };
  Action: "sts:AssumeRole";
  Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

/** A policy document as the JSON string IAM expects, resolving any outputs inside. */
export function policyDocument(statements: pulumi.Input<PolicyStatement[]>): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/** A trust policy letting one AWS service assume the role, optionally only for one account's resources. */
export function assumeRolePolicy(service: string, condition?: TrustStatement["Condition"]): pulumi.Output<string> {
  const statement: TrustStatement = {
    Effect: "Allow",
    Principal: { Service: service },
    Action: "sts:AssumeRole",
    ...(condition ? { Condition: condition } : {}),
  };
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: [statement] });
}

/** Writing to one log group's streams (the group itself is created by the program, with retention). */
export function writeLogsStatement(logGroupArn: pulumi.Input<string>): PolicyStatement {
  return {
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: [pulumi.interpolate`${logGroupArn}:*`],
  };
}

/** Streaming and one-shot invocation of exactly the allowlisted models and profiles. */
export function invokeModelsStatement(arns: pulumi.Input<string>[]): PolicyStatement {
  return {
    Sid: "InvokeAllowlistedModels",
    Effect: "Allow",
    Action: ["bedrock:InvokeModelWithResponseStream", "bedrock:InvokeModel"],
    Resource: arns,
  };
}

/** The ARN IAM uses for one channel namespace of an Events API. */
export function channelNamespaceArn(apiArn: pulumi.Input<string>, namespace: string): pulumi.Output<string> {
  return pulumi.interpolate`${apiArn}/channelNamespace/${namespace}`;
}

/** Publishing over HTTP to one channel namespace. */
export function publishEventsStatement(namespaceArn: pulumi.Input<string>): PolicyStatement {
  return { Sid: "PublishToNamespace", Effect: "Allow", Action: ["appsync:EventPublish"], Resource: [namespaceArn] };
}

/** Item-level access to the named tables; no scans, no table management. Sids must differ within a policy. */
export function tableItemsStatement(tableArns: pulumi.Input<string>[], actions: string[], sid = "UseOwnTables"): PolicyStatement {
  return { Sid: sid, Effect: "Allow", Action: actions.map((a) => `dynamodb:${a}`), Resource: tableArns };
}

/** The ARN IAM uses for one index of a table (Query on an index is authorized on it). */
export function tableIndexArn(tableArn: pulumi.Input<string>, indexName: string): pulumi.Output<string> {
  return pulumi.interpolate`${tableArn}/index/${indexName}`;
}

/** Applying one guardrail, which model calls naming it need. */
export function applyGuardrailStatement(guardrailArn: pulumi.Input<string>): PolicyStatement {
  return { Sid: "ApplyStackGuardrail", Effect: "Allow", Action: ["bedrock:ApplyGuardrail"], Resource: [guardrailArn] };
}

export function sendMessageStatement(queueArn: pulumi.Input<string>): PolicyStatement {
  return { Sid: "SendToFailureQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queueArn] };
}

/** What a Lambda event source mapping needs to poll a queue on the function's behalf. */
export function consumeQueueStatement(queueArn: pulumi.Input<string>): PolicyStatement {
  return {
    Sid: "ConsumeQueue",
    Effect: "Allow",
    Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
    Resource: [queueArn],
  };
}

export function invokeFunctionStatement(functionArn: pulumi.Input<string>): PolicyStatement {
  return { Sid: "InvokeHandler", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [functionArn] };
}

/** Sending records to one Firehose delivery stream. */
export function putRecordsStatement(deliveryStreamArn: pulumi.Input<string>): PolicyStatement {
  return { Sid: "PutAnalyticsRecords", Effect: "Allow", Action: ["firehose:PutRecord", "firehose:PutRecordBatch"], Resource: [deliveryStreamArn] };
}
