/**
 * The dev stack, run from the real Pulumi.dev.yaml against Pulumi mocks: what gets deployed,
 * how it is wired, and what each role may do.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_CONFIG_FILE } from "../../functions/lib/config/load.js";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { NAMESPACES, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { TABLES } from "../../functions/lib/tables.js";
import { MOCK_ACCOUNT_ID } from "../../tools/awsMocks.js";
import { readStackConfig } from "../../local/config.js";
import { runMockedStack, type MockedResource, type MockedStack } from "../../tools/mocked-stack.js";
import { actionsOf, archiveFile, grantedStatements, one, ofType, resourcesOf, roleOf, roleStatements, statementsOf, T } from "./stackQueries.js";

const devConfig = readStackConfig({ stack: "dev" }).config;

let stack: MockedStack;
beforeAll(async () => {
  stack = await runMockedStack({ stack: "dev" });
});
const resources = () => stack.resources;
const worker = () => one(resources(), T.fn, "worker-chat-function");
const consumer = () => one(resources(), T.fn, "worker-dead-letters-function");
const authorizer = () => one(resources(), T.fn, "subscribe-function");
const api = () => one(resources(), T.api);

describe("dev stack: provider and tags", () => {
  it("puts every AWS resource under one provider that tags with the project and stack", () => {
    const provider = one(resources(), T.provider);
    expect(JSON.parse(provider.inputs.defaultTags)).toEqual({ tags: { "ai-gateway:project": "ai-gateway", "ai-gateway:stack": "dev" } });
    expect(provider.inputs.region).toBe("us-east-1");
    const awsResources = resources().filter((r) => r.type.startsWith("aws:"));
    expect(awsResources.length).toBeGreaterThan(30);
    for (const r of awsResources) expect(r.provider?.startsWith(`${provider.urn}::`), r.name).toBe(true);
  });

  it("exports the endpoints, user pool and namespaces a client needs, and where operators look", () => {
    const dns = api().state.dns as { HTTP: string; REALTIME: string };
    expect(stack.outputs).toEqual({
      region: "us-east-1",
      eventsHttpEndpoint: `https://${dns.HTTP}/event`,
      eventsRealtimeEndpoint: `wss://${dns.REALTIME}/event/realtime`,
      userPoolId: "us-east-1_MockPool1",
      userPoolClientId: expect.stringMatching(/^client/),
      inboundNamespace: "Inbound-Messages",
      outboundNamespace: "Outbound-Messages",
      dashboardUrl: "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=ai-gateway-dev",
      alarmTopicArn: one(resources(), "aws:sns/topic:Topic").state.arn,
      analyticsBucket: one(resources(), "aws:s3/bucket:Bucket", "analytics-records").state.bucket,
      analyticsDeliveryStream: one(resources(), "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").state.name,
      athenaWorkgroup: one(resources(), "aws:athena/workgroup:Workgroup").state.name,
      athenaDatabase: "ai_gateway_dev_analytics",
      usageTableName: expect.stringMatching(/usage/),
      cacheTableName: expect.stringMatching(/cache/),
      webUrl: expect.stringMatching(/^https:\/\/d[a-z0-9]+\.cloudfront\.net$/),
    });
  });
});

describe("dev stack: Events API", () => {
  it("accepts Cognito user-pool tokens of its own app client and IAM, and no API key", () => {
    const config = api().inputs.eventConfig;
    expect(config.authProviders.map((p: { authType: string }) => p.authType).sort()).toEqual(["AMAZON_COGNITO_USER_POOLS", "AWS_IAM"]);
    const cognito = config.authProviders.find((p: { authType: string }) => p.authType === "AMAZON_COGNITO_USER_POOLS");
    expect(cognito.cognitoConfig).toEqual({
      userPoolId: "us-east-1_MockPool1",
      awsRegion: "us-east-1",
      appIdClientRegex: `^${stack.outputs.userPoolClientId}$`,
    });
    expect(JSON.stringify(config)).not.toContain("API_KEY");
  });

  it("logs errors through a role only AppSync can assume into a log group with the stack's retention", () => {
    const { logConfig } = api().inputs.eventConfig;
    expect(logConfig.logLevel).toBe("ERROR");
    const role = ofType(resources(), T.role).find((r) => r.state.arn === logConfig.cloudwatchLogsRoleArn)!;
    const trust = statementsOf(role.inputs.assumeRolePolicy);
    expect(trust).toEqual([expect.objectContaining({ Principal: { Service: "appsync.amazonaws.com" }, Action: "sts:AssumeRole" })]);
    const logGroup = one(resources(), T.logGroup, "events-logs");
    expect(logGroup.inputs).toMatchObject({ name: `/aws/appsync/apis/${api().state.apiId}`, retentionInDays: 7 });
    expect(roleStatements(resources(), role)).toEqual([
      expect.objectContaining({ Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroup.state.arn}:*`] }),
    ]);
  });

  it("creates the namespaces of the channel contract with their auth modes and DIRECT handlers", () => {
    const namespaces = ofType(resources(), T.namespace);
    expect(namespaces.map((n) => n.inputs.name).sort()).toEqual(Object.values(NAMESPACES).map((n) => n.name).sort());
    for (const contract of Object.values(NAMESPACES)) {
      const ns = namespaces.find((n) => n.inputs.name === contract.name)!;
      expect(ns.inputs.apiId).toBe(api().state.apiId);
      expect(ns.inputs.publishAuthModes).toEqual(contract.publishAuthModes.map((authType) => ({ authType })));
      expect(ns.inputs.subscribeAuthModes).toEqual(contract.subscribeAuthModes.map((authType) => ({ authType })));
      expect(Object.keys(ns.inputs.handlerConfigs)).toEqual([contract.handler.event]);
      const handler = ns.inputs.handlerConfigs[contract.handler.event];
      expect(handler.behavior).toBe("DIRECT");
      expect(handler.integration.lambdaConfig).toEqual({ invokeType: contract.handler.invokeType });
      const source = ofType(resources(), T.dataSource).find((d) => d.inputs.name === handler.integration.dataSourceName)!;
      expect(source.inputs.name).toMatch(/^[_A-Za-z][_0-9A-Za-z]*$/);
      expect(source.inputs.type).toBe("AWS_LAMBDA");
    }
  });

  it("routes onPublish of Inbound to the worker (async) and onSubscribe of Outbound to the authorizer (sync)", () => {
    const sourceFor = (namespace: string) => {
      const ns = ofType(resources(), T.namespace).find((n) => n.inputs.name === namespace)!;
      const config = Object.values(ns.inputs.handlerConfigs)[0] as { integration: { dataSourceName: string } };
      return ofType(resources(), T.dataSource).find((d) => d.inputs.name === config.integration.dataSourceName)!;
    };
    expect(sourceFor("Inbound-Messages").inputs.lambdaConfig.functionArn).toBe(worker().state.arn);
    expect(sourceFor("Outbound-Messages").inputs.lambdaConfig.functionArn).toBe(authorizer().state.arn);
  });

  it("lets each data source's service role invoke exactly its one function, for this API only", () => {
    for (const source of ofType(resources(), T.dataSource)) {
      const role = ofType(resources(), T.role).find((r) => r.state.arn === source.inputs.serviceRoleArn)!;
      expect(roleStatements(resources(), role)).toEqual([
        { Sid: "InvokeHandler", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [source.inputs.lambdaConfig.functionArn] },
      ]);
      const [trust] = statementsOf(role.inputs.assumeRolePolicy);
      expect(trust!.Principal).toEqual({ Service: "appsync.amazonaws.com" });
      expect(trust!.Condition).toEqual({
        StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
        ArnLike: { "aws:SourceArn": [api().state.apiArn, `${api().state.apiArn}/*`] },
      });
    }
  });

  it("has no web ACL in dev, and its alarms mail nobody (dev sets no alarm e-mail)", () => {
    expect(ofType(resources(), T.webAcl)).toEqual([]);
    expect(ofType(resources(), "aws:cloudwatch/metricAlarm:MetricAlarm").length).toBeGreaterThan(5);
    expect(ofType(resources(), "aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
  });
});

describe("dev stack: functions", () => {
  it("runs every function on nodejs22.x arm64 from index.handler, logging to its own group with the stack's retention", () => {
    const functions = ofType(resources(), T.fn);
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.inputs).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], handler: "index.handler" });
      const logGroup = ofType(resources(), T.logGroup).find((g) => g.state.name === fn.inputs.loggingConfig.logGroup)!;
      expect(logGroup.inputs.retentionInDays).toBe(7);
      expect(roleStatements(resources(), roleOf(resources(), fn))).toContainEqual(
        expect.objectContaining({ Sid: "WriteOwnLogs", Resource: [`${logGroup.state.arn}:*`] }),
      );
    }
  });

  it("gives the worker and the consumer the events endpoint, the worker its tables, and every function the stack and Powertools settings", () => {
    const endpoint = stack.outputs.eventsHttpEndpoint;
    const table = one(resources(), T.table, "idempotency");
    const usage = one(resources(), T.table, "-usage");
    const env = (fn: MockedResource) => fn.inputs.environment.variables as Record<string, string>;
    expect(env(worker())).toMatchObject({ EVENTS_HTTP_ENDPOINT: endpoint, IDEMPOTENCY_TABLE: table.state.name, USAGE_TABLE: usage.state.name });
    expect(stack.outputs.usageTableName).toBe(usage.state.name);
    expect(env(consumer())).toMatchObject({ EVENTS_HTTP_ENDPOINT: endpoint });
    for (const fn of [worker(), consumer(), authorizer()]) {
      expect(env(fn)).toMatchObject({
        GATEWAY_STACK: "dev",
        POWERTOOLS_METRICS_NAMESPACE: "AiGateway/dev",
        POWERTOOLS_LOG_LEVEL: "INFO",
        POWERTOOLS_SERVICE_NAME: expect.any(String),
      });
    }
  });

  it("bounds the worker's async delivery: no retries, short event age, reserved concurrency, encrypted on-failure queue", () => {
    const queue = one(resources(), T.queue, "worker-failures");
    expect(queue.inputs.sqsManagedSseEnabled).toBe(true);
    expect(queue.inputs.messageRetentionSeconds).toBeLessThanOrEqual(3600);
    const invoke = one(resources(), T.invokeConfig);
    expect(invoke.inputs).toEqual({
      functionName: worker().state.name,
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 120,
      destinationConfig: { onFailure: { destination: queue.state.arn } },
    });
    expect(worker().inputs).toMatchObject({ reservedConcurrentExecutions: 5, timeout: 300, memorySize: 512 });
  });

  it("grants the worker sqs:SendMessage on its queue before the invoke config exists", () => {
    const queue = one(resources(), T.queue, "worker-failures");
    const sendPolicy = ofType(resources(), T.rolePolicy).find((p) =>
      statementsOf(p.inputs.policy).some((s) => actionsOf(s).includes("sqs:SendMessage")),
    )!;
    expect(sendPolicy.inputs.role).toBe(roleOf(resources(), worker()).state.name);
    expect(statementsOf(sendPolicy.inputs.policy)).toEqual([
      { Sid: "SendToFailureQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queue.state.arn] },
    ]);
    expect(one(resources(), T.invokeConfig).dependencies).toContain(sendPolicy.urn);
  });

  it("feeds the on-failure queue to the consumer in batches with partial batch responses", () => {
    const mapping = one(resources(), T.eventSource);
    expect(mapping.inputs).toMatchObject({
      eventSourceArn: one(resources(), T.queue).state.arn,
      functionName: consumer().state.arn,
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("bundles the validated stack config beside the code, without identity-provider secrets", async () => {
    for (const fn of [worker(), consumer(), authorizer()]) {
      const bundled = JSON.parse(await archiveFile(fn.inputs.code, BUNDLED_CONFIG_FILE));
      expect(parseGatewayConfig(bundled)).toEqual({ ...devConfig, identity: { ...devConfig.identity, providers: {} } });
      const code = await archiveFile(fn.inputs.code, "index.mjs");
      expect(code.startsWith('import { createRequire as __gatewayCreateRequire } from "node:module";')).toBe(true);
    }
  });
});

describe("dev stack: IAM scoping", () => {
  it("grants no wildcard action anywhere", () => {
    const statements = grantedStatements(resources());
    expect(statements.length).toBeGreaterThan(8);
    for (const { policy, statement } of statements) {
      for (const action of actionsOf(statement)) expect(action, policy).not.toContain("*");
    }
  });

  it("grants Bedrock, AppSync, DynamoDB and SQS actions on named resources only", () => {
    for (const { policy, statement } of grantedStatements(resources())) {
      if (!actionsOf(statement).some((a) => /^(bedrock|appsync|dynamodb|sqs):/.test(a))) continue;
      for (const resource of resourcesOf(statement)) expect(resource, policy).not.toContain("*");
    }
  });

  it("lets only the worker call Bedrock, and only the allowlisted profiles and their foundation models", () => {
    const bedrock = grantedStatements(resources()).filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith("bedrock:")));
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0]!.policy).toContain("worker-chat");
    const { statement } = bedrock[0]!;
    expect(actionsOf(statement).sort()).toEqual(["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]);
    const arns = resourcesOf(statement);
    for (const model of devConfig.models) {
      const foundation = model.id.replace(/^us\./, "");
      expect(arns).toContain(`arn:aws:bedrock:us-east-1:${MOCK_ACCOUNT_ID}:inference-profile/${model.id}`);
      for (const region of ["us-east-1", "us-east-2", "us-west-2"]) {
        expect(arns).toContain(`arn:aws:bedrock:${region}::foundation-model/${foundation}`);
      }
    }
    const allowed = new Set(devConfig.models.flatMap((m) => [m.id, m.id.replace(/^us\./, "")]));
    for (const arn of arns) expect(allowed.has(arn.split("/").pop()!), arn).toBe(true);
  });

  it("lets the worker and the consumer publish only to the Outbound namespace", () => {
    const publish = grantedStatements(resources()).filter(({ statement }) => actionsOf(statement).includes("appsync:EventPublish"));
    expect(publish.map((p) => p.policy).sort()).toEqual(["gateway-worker-chat-policy", "gateway-worker-dead-letters-policy"]);
    for (const { statement } of publish) {
      expect(resourcesOf(statement)).toEqual([`${api().state.apiArn}/channelNamespace/${OUTBOUND_NAMESPACE}`]);
    }
  });

  it("lets only the worker use DynamoDB, on its own tables' items: idempotency, usage, conversations (and its index), cache read-only", () => {
    const dynamo = grantedStatements(resources()).filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith("dynamodb:")));
    expect(new Set(dynamo.map((d) => d.policy))).toEqual(new Set(["gateway-worker-chat-policy"]));
    const bySid = Object.fromEntries(dynamo.map(({ statement }) => [statement.Sid, statement]));
    expect(Object.keys(bySid).sort()).toEqual(["MeterUsage", "ReadPreparedResponses", "UseConversationsTable", "UseOwnTables"]);
    expect(resourcesOf(bySid.UseOwnTables!)).toEqual([one(resources(), T.table, "idempotency").state.arn]);
    expect(actionsOf(bySid.UseOwnTables!).sort()).toEqual(["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    // Metering reads and conditionally puts the admission record and settles with transactional updates; no Query, Scan or DeleteItem.
    expect(resourcesOf(bySid.MeterUsage!)).toEqual([one(resources(), T.table, "-usage").state.arn]);
    expect(actionsOf(bySid.MeterUsage!).sort()).toEqual(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    const conversations = one(resources(), T.table, "-conversations").state.arn;
    expect(resourcesOf(bySid.UseConversationsTable!)).toEqual([conversations, `${conversations}/index/by-updated`]);
    expect(actionsOf(bySid.UseConversationsTable!).sort()).toEqual(
      ["BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"].map((a) => `dynamodb:${a}`),
    );
    // The worker never writes prepared responses, and nothing scans a table.
    expect(resourcesOf(bySid.ReadPreparedResponses!)).toEqual([one(resources(), T.table, "-cache").state.arn]);
    expect(actionsOf(bySid.ReadPreparedResponses!).sort()).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem"]);
    expect(dynamo.flatMap(({ statement }) => actionsOf(statement))).not.toContain("dynamodb:Scan");
  });

  it("gives the subscription authorizer no permission beyond its own logs", () => {
    expect(roleStatements(resources(), roleOf(resources(), authorizer())).map((s) => s.Sid)).toEqual(["WriteOwnLogs"]);
  });
});

describe("dev stack: data and identity", () => {
  it("creates one on-demand, encrypted table per shared schema, with TTL and without dev protections", () => {
    const tables = ofType(resources(), T.table);
    expect(tables).toHaveLength(TABLES.length);
    for (const schema of TABLES) {
      const table = one(resources(), T.table, `-${schema.name}`);
      expect(table.inputs).toMatchObject({
        billingMode: "PAY_PER_REQUEST",
        hashKey: schema.partitionKey,
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: false },
        deletionProtectionEnabled: false,
      });
      // DynamoDB needs every key attribute declared, and only those.
      const keys = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : []), ...(schema.indexes ?? []).map((i) => i.sortKey)];
      expect(table.inputs.attributes).toEqual(keys.map((name) => ({ name, type: "S" })));
      expect(table.inputs.rangeKey).toBe(schema.sortKey);
      if (schema.ttlAttribute) expect(table.inputs.ttl).toEqual({ attributeName: schema.ttlAttribute, enabled: true });
    }
  });

  it("keys the usage table by user and period, with TTL on the attribute metering writes", () => {
    const usage = one(resources(), T.table, "-usage");
    expect(usage.inputs).toMatchObject({ hashKey: "user_id", rangeKey: "period_id", ttl: { attributeName: "ttl", enabled: true } });
  });

  it("signs users in by email with a strong password policy, optional MFA and open sign-up", () => {
    expect(one(resources(), T.userPool).inputs).toMatchObject({
      usernameAttributes: ["email"],
      autoVerifiedAttributes: ["email"],
      passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true },
      mfaConfiguration: "OPTIONAL",
      softwareTokenMfaConfiguration: { enabled: true },
      adminCreateUserConfig: { allowAdminCreateUserOnly: false },
      deletionProtection: "INACTIVE",
    });
  });

  it("has a public app client allowing password, SRP and refresh-token auth", () => {
    const client = one(resources(), T.client).inputs;
    expect(client.generateSecret).toBe(false);
    expect([...client.explicitAuthFlows].sort()).toEqual(["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]);
  });

  it("creates one Cognito group per tier, the higher tier priority taking precedence", () => {
    const groups = ofType(resources(), T.group).map((g) => g.inputs);
    expect(groups.map((g) => g.name).sort()).toEqual(Object.keys(devConfig.tiers).sort());
    const precedence = (tier: string) => groups.find((g) => g.name === tier)!.precedence as number;
    expect(precedence("pro")).toBeLessThan(precedence("default"));
  });
});
