import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import * as iam from "../../components/lib/iam.js";
import { stacklessRunError } from "../../components/lib/runError.js";

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** A statement with its outputs resolved, as IAM receives it in the policy document. */
async function resolved(statement: iam.PolicyStatement): Promise<unknown> {
  return JSON.parse(await valueOf(iam.policyDocument([statement]))).Statement[0];
}

const ARN = "arn:aws:service:us-east-1:111122223333:thing/one";

describe("IAM documents of the gateway's roles", () => {
  it("wraps statements in a 2012-10-17 policy document with their outputs resolved", async () => {
    const doc = JSON.parse(await valueOf(iam.policyDocument([iam.publishEventsStatement(pulumi.output(ARN))])));
    expect(doc).toEqual({ Version: "2012-10-17", Statement: [{ Sid: "PublishToNamespace", Effect: "Allow", Action: ["appsync:EventPublish"], Resource: [ARN] }] });
  });

  it("lets exactly one service assume a role, with a condition only when one is given", async () => {
    expect(JSON.parse(await valueOf(iam.assumeRolePolicy("lambda.amazonaws.com")))).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const condition = { StringEquals: { "aws:SourceAccount": "111122223333" } };
    const trust = JSON.parse(await valueOf(iam.assumeRolePolicy("firehose.amazonaws.com", condition)));
    expect(trust.Statement[0].Condition).toEqual(condition);
  });

  it("lets a function write only to its own log group's streams", async () => {
    expect(await resolved(iam.writeLogsStatement("arn:aws:logs:us-east-1:1:log-group:/gw/worker"))).toEqual({
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: ["arn:aws:logs:us-east-1:1:log-group:/gw/worker:*"],
    });
  });

  it("invokes only the allowlisted model ARNs, streaming and one-shot", async () => {
    const arns = ["arn:aws:bedrock:us-east-1::foundation-model/a", "arn:aws:bedrock:us-east-1::foundation-model/b"];
    expect(await resolved(iam.invokeModelsStatement(arns))).toEqual({
      Sid: "InvokeAllowlistedModels",
      Effect: "Allow",
      Action: ["bedrock:InvokeModelWithResponseStream", "bedrock:InvokeModel"],
      Resource: arns,
    });
  });

  it("names channel namespaces and table indexes the way IAM authorizes them", async () => {
    expect(await valueOf(iam.channelNamespaceArn("arn:aws:appsync:us-east-1:1:apis/abc", "chat"))).toBe("arn:aws:appsync:us-east-1:1:apis/abc/channelNamespace/chat");
    expect(await valueOf(iam.tableIndexArn("arn:aws:dynamodb:us-east-1:1:table/t", "byUser"))).toBe("arn:aws:dynamodb:us-east-1:1:table/t/index/byUser");
  });

  it("grants item-level DynamoDB actions on the named tables only, under a Sid the caller may change", async () => {
    expect(await resolved(iam.tableItemsStatement([ARN], ["GetItem", "PutItem"]))).toEqual({ Sid: "UseOwnTables", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: [ARN] });
    expect(iam.tableItemsStatement([ARN], ["Query"], "ReadHistory").Sid).toBe("ReadHistory");
  });

  it("gives each remaining statement one purpose: its Sid, its exact actions, its one resource", async () => {
    const cases: [iam.PolicyStatement, string, string[]][] = [
      [iam.applyGuardrailStatement(ARN), "ApplyStackGuardrail", ["bedrock:ApplyGuardrail"]],
      [iam.sendMessageStatement(ARN), "SendToFailureQueue", ["sqs:SendMessage"]],
      [iam.consumeQueueStatement(ARN), "ConsumeQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]],
      [iam.invokeFunctionStatement(ARN), "InvokeHandler", ["lambda:InvokeFunction"]],
      [iam.putRecordsStatement(ARN), "PutAnalyticsRecords", ["firehose:PutRecord", "firehose:PutRecordBatch"]],
    ];
    for (const [statement, sid, actions] of cases) expect(await resolved(statement)).toEqual({ Sid: sid, Effect: "Allow", Action: actions, Resource: [ARN] });
  });
});

describe("the error that ends a run over bad stack config", () => {
  it("is a Pulumi RunError whose stack is only its name and message", () => {
    const error = stacklessRunError("gateway:models.0.id: required");
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(error.message).toBe("gateway:models.0.id: required");
    expect(error.stack).toBe("Error: gateway:models.0.id: required");
    // The SDK may still write the stack when it wraps the error.
    error.stack = "replaced";
    expect(error.stack).toBe("replaced");
  });
});
