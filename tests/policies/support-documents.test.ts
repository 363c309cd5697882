import { describe, expect, it } from "vitest";
import { actionMatches, policyDocumentsOf, serviceOf, statementsOf } from "../../policies/support/iam-documents.js";
import { wildcardReach } from "../../policies/support/resource-wildcards.js";
import { asyncInvokedFunctions, referencing, type StackResource, TYPES } from "../../policies/support/stack-graph.js";

const res = (type: string, name: string, props: Record<string, any>): StackResource => ({ type, name, urn: `urn:${name}`, props });

describe("IAM documents as the policies read them", () => {
  it("reads statements from JSON text or objects, defaulting the effect to Allow and keeping only string actions", () => {
    const text = JSON.stringify({ Statement: [{ Action: ["s3:GetObject", 5], Resource: "arn:aws:s3:::b/*", Condition: { Bool: { x: "1" } }, Principal: "*" }, "junk"] });
    expect(statementsOf(text)).toEqual([
      { effect: "Allow", actions: ["s3:GetObject"], notActions: [], resources: ["arn:aws:s3:::b/*"], notResources: [], condition: { Bool: { x: "1" } }, principal: "*" },
    ]);
    expect(statementsOf({ Statement: { Effect: "Deny", NotAction: "iam:*", NotResource: ["x"] } })[0]).toMatchObject({ effect: "Deny", notActions: ["iam:*"], notResources: ["x"], condition: {} });
    expect(statementsOf("not json")).toEqual([]);
    expect(statementsOf(["a list"])).toEqual([]);
  });

  it("finds the document of identity and resource policies, and every inline policy of a role, by position and name", () => {
    const doc = { Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: "q" }] };
    expect(policyDocumentsOf("aws:iam/rolePolicy:RolePolicy", { policy: doc })).toEqual([{ field: "policy", statements: statementsOf(doc) }]);
    expect(policyDocumentsOf("aws:sqs/queuePolicy:QueuePolicy", { policy: doc })[0]!.statements[0]!.actions).toEqual(["sqs:SendMessage"]);
    expect(policyDocumentsOf("aws:iam/policy:Policy", {})).toEqual([]);
    const role = policyDocumentsOf("aws:iam/role:Role", { inlinePolicies: [{ name: "worker", policy: doc }, "junk", { policy: doc }] });
    expect(role.map((d) => d.field)).toEqual(["inlinePolicies[0] (worker)", "inlinePolicies[1] (unnamed)"]);
    expect(role[0]!.statements[0]!.resources).toEqual(["q"]);
    expect(policyDocumentsOf("aws:iam/role:Role", { policy: doc })).toEqual([]);
    expect(policyDocumentsOf("aws:s3/bucket:Bucket", { policy: doc, inlinePolicies: [{ policy: doc }] })).toEqual([]);
  });

  it.each([
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
  ])("reads the document of a %s", (type) => {
    const doc = { Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] };
    expect(policyDocumentsOf(type, { policy: doc })).toEqual([{ field: "policy", statements: statementsOf(doc) }]);
  });

  it("never drops a regex character from an action pattern: s3:Get.Object is not s3:GetObject", () => {
    expect(actionMatches("s3:Get.Object", "s3:GetObject")).toBe(false);
  });

  it("takes an action without a service prefix as any service's", () => {
    expect(serviceOf("GetObject")).toBe("*");
  });

  it("matches actions against IAM wildcards, case-insensitively, with regex characters taken literally", () => {
    expect(actionMatches("s3:Get*", "s3:GetObject")).toBe(true);
    expect(actionMatches("s3:Get?bject", "S3:GETOBJECT")).toBe(true);
    expect(actionMatches("s3:Get?", "s3:GetObject")).toBe(false);
    expect(actionMatches("s3:Get.bject", "s3:GetObject")).toBe(false);
    expect(actionMatches("s3:GetObject", "xs3:GetObject")).toBe(false);
  });

  it("names the service of an action, or * when it has none", () => {
    expect(serviceOf("DynamoDB:GetItem")).toBe("dynamodb");
    expect(serviceOf("*")).toBe("*");
  });
});

describe("how far a wildcard in an IAM Resource reaches", () => {
  const SERVICES = ["dynamodb", "s3", "sqs"];
  const table = (part: string) => `arn:aws:dynamodb:us-east-1:123456789012:${part}`;

  it("accepts only a bucket's objects and a table's indexes as wildcard suffixes", () => {
    expect(wildcardReach("arn:aws:s3:::chat-ui-bucket/*", SERVICES)).toBeUndefined();
    expect(wildcardReach("arn:aws:s3:::chat-ui-bucket/assets/*", SERVICES)).toBeUndefined();
    expect(wildcardReach(table("table/usage/index/*"), SERVICES)).toBeUndefined();
  });

  it("takes a pattern that only looks like an allowed suffix for a partial wildcard", () => {
    expect(wildcardReach("arn:aws:s3:::*-logs/*", SERVICES)).toBe("partial");
    expect(wildcardReach("arn:aws:s3:::chat-ui-bucket/*.json", SERVICES)).toBe("partial");
    expect(wildcardReach(table("*table/usage/index/*"), SERVICES)).toBe("partial");
    expect(wildcardReach(table("table/usage/index/*-by-user"), SERVICES)).toBe("partial");
    expect(wildcardReach(table("table/*-archive"), SERVICES)).toBe("partial");
    expect(wildcardReach(table("table/*"), SERVICES)).toBe("every");
  });

  it("judges a Resource that is not an ARN by its wildcards alone", () => {
    expect(wildcardReach("usage-*", SERVICES)).toBe("partial");
    expect(wildcardReach("usage", SERVICES)).toBeUndefined();
    expect(wildcardReach("*arn:aws:logs:us-east-1:123456789012:log-group:gateway", SERVICES)).toBe("partial");
    expect(wildcardReach("arn:aws:logs:us-east-1:123456789012:log-group:gateway\n*", SERVICES)).toBe("partial");
  });
});

describe("the stack graph the policies follow", () => {
  const worker = res(TYPES.function, "worker", { name: "gw-worker", arn: "arn:aws:lambda:us-east-1:1:function:gw-worker" });
  const other = res(TYPES.function, "other", { name: "gw-other", arn: "arn:aws:lambda:us-east-1:1:function:gw-other" });
  const source = (name: string, fn: StackResource) => res(TYPES.dataSource, `${name}-ds`, { name, lambdaConfig: { functionArn: fn.props.arn } });
  const namespace = (handlerConfigs: unknown) => res(TYPES.namespace, "inbound", { name: "Inbound", handlerConfigs });
  const eventHandler = (dataSourceName: string, invokeType = "EVENT") => ({ behavior: "DIRECT", integration: { dataSourceName, lambdaConfig: { invokeType } } });

  it("follows an AppSync EVENT handler through its data source to the function", () => {
    const found = asyncInvokedFunctions([worker, other, source("ws", worker), source("os", other), namespace({ onPublish: eventHandler("ws") })]);
    expect(found).toEqual([{ fn: worker, source: "appsync", via: "AppSync Inbound onPublish (EVENT)" }]);
  });

  it("ignores request-response handlers and handlers that are not Lambda integrations", () => {
    const stack = [worker, source("ws", worker)];
    expect(asyncInvokedFunctions([...stack, namespace({ onPublish: eventHandler("ws", "REQUEST_RESPONSE") })])).toEqual([]);
    expect(asyncInvokedFunctions([...stack, namespace({ onPublish: { integration: { dataSourceName: "ws" } } })])).toEqual([]);
    expect(asyncInvokedFunctions([...stack, namespace({ onPublish: "ws", onSubscribe: { behavior: "CODE" } })])).toEqual([]);
  });

  it("takes functions that async-invoking services may call, or that declare an invoke config, and says how", () => {
    const sns = res(TYPES.permission, "from-sns", { function: "gw-worker", principal: "sns.amazonaws.com" });
    const api = res(TYPES.permission, "from-api", { function: "gw-other", principal: "apigateway.amazonaws.com" });
    expect(asyncInvokedFunctions([worker, other, sns, api])).toEqual([{ fn: worker, source: "service", via: "sns.amazonaws.com permission from-sns" }]);
    const config = res(TYPES.invokeConfig, "other-async", { functionName: "gw-other" });
    expect(asyncInvokedFunctions([worker, other, config])).toEqual([{ fn: other, source: "invokeConfig", via: "event-invoke config other-async" }]);
  });

  it("finds resources whose field refers to a target among several references", () => {
    const policy = res("aws:s3/bucketPolicy:BucketPolicy", "p", { bucket: ["elsewhere", "gw-worker"] });
    expect(referencing([policy], "aws:s3/bucketPolicy:BucketPolicy", "bucket", worker)).toEqual([policy]);
    expect(referencing([policy], "aws:s3/bucketPolicy:BucketPolicy", "bucket", other)).toEqual([]);
  });
});
