/**
 * A small stack that satisfies every policy, built from resource inputs shaped like
 * @pulumi/aws 7's, so each policy test can break exactly one thing and expect one message.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import { evaluatePolicies, type PackConfig, type PolicyOutcome, type RecordedResource } from "../../policies/evaluate.js";
import { policies } from "../../policies/policies.js";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
export const PROVIDER_URN = "urn:pulumi:test::ai-gateway::pulumi:providers:aws::aws";
export const MODELS = ["us.amazon.nova-lite-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"];

/** Thresholds like prod's, so every check is switched on. */
export const PACK_CONFIG: PackConfig = {
  "iam-bedrock-invoke-allowlist": { allowedModelIds: MODELS },
  "tier-models-within-allowlist": { allowedModelIds: MODELS },
  "appsync-logging-enabled": { allowedLogLevels: ["ERROR", "INFO"] },
  "lambda-bounded-timeout-memory": { maxTimeoutSeconds: 300, maxMemoryMb: 1024 },
  "lambda-async-failure-handling": { maxEventAgeSeconds: 300, maxRetryAttempts: 0 },
  "dynamodb-point-in-time-recovery": { required: true },
  "cloudwatch-log-retention": { minRetentionDays: 7, maxRetentionDays: 365 },
  "cognito-password-policy": { minimumLength: 12 },
  "cognito-mfa": { minimum: "ON" },
  "required-tags": { expectedValues: { "ai-gateway:stack": "test" } },
};

export const GATEWAY_CONFIG = {
  models: MODELS.map((id) => ({ id, name: id, provider: "Amazon", maxOutputTokens: 4096, default: false })),
  tiers: {
    default: {
      priority: 0,
      models: [MODELS[0]],
      limits: { daily: { inputTokens: 1000, outputTokens: 2000 }, monthly: { inputTokens: 10000, outputTokens: 20000 } },
      maxOutputTokensPerRequest: 1024,
      maxConcurrentRequests: 2,
    },
    pro: {
      priority: 10,
      models: ["*"],
      limits: { daily: { inputTokens: 5000, outputTokens: 8000 }, monthly: { inputTokens: 50000, outputTokens: 80000 } },
      maxOutputTokensPerRequest: 4096,
      maxConcurrentRequests: 4,
    },
  },
};

export function resource(type: string, name: string, inputs: Record<string, any>, state: Record<string, any> = {}): RecordedResource {
  return { type, name, urn: `urn:pulumi:test::ai-gateway::${type}::${name}`, inputs, state, provider: `${PROVIDER_URN}::provider-id` };
}

export function codeArchive(config: unknown = GATEWAY_CONFIG): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({
    "index.mjs": new pulumi.asset.StringAsset("export const handler = async () => {};"),
    "gateway-config.json": new pulumi.asset.StringAsset(JSON.stringify(config)),
  });
}

export const arn = {
  fn: (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
  table: (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
  queue: (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  profile: (id: string) => `arn:aws:bedrock:${REGION}:${ACCOUNT}:inference-profile/${id}`,
  model: (region: string, id: string) => `arn:aws:bedrock:${region}::foundation-model/${id}`,
};

export const COMPLIANT_BEDROCK_ARNS = [
  arn.profile("us.amazon.nova-lite-v1:0"),
  ...["us-east-1", "us-east-2", "us-west-2"].map((r) => arn.model(r, "amazon.nova-lite-v1:0")),
  arn.model(REGION, "anthropic.claude-3-haiku-20240307-v1:0"),
];

export function document(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export function lambdaFunction(name: string, overrides: Record<string, any> = {}): RecordedResource {
  return resource(
    "aws:lambda/function:Function",
    `${name}-function`,
    {
      name,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      timeout: 300,
      memorySize: 512,
      handler: "index.handler",
      loggingConfig: { logFormat: "JSON", logGroup: `/aws/lambda/${name}` },
      code: codeArchive(),
      ...overrides,
    },
    { arn: arn.fn(name) },
  );
}

/** Every resource kind the policies look at, each configured the compliant way. */
export function compliantStack(): RecordedResource[] {
  const bucket = "analytics-bucket";
  return [
    resource("pulumi:providers:aws", "aws", {
      region: REGION,
      defaultTags: JSON.stringify({ tags: { "ai-gateway:project": "ai-gateway", "ai-gateway:stack": "test" } }),
    }),
    lambdaFunction("worker"),
    resource("aws:cloudwatch/logGroup:LogGroup", "worker-logs", { name: "/aws/lambda/worker", retentionInDays: 30 }),
    resource("aws:sqs/queue:Queue", "worker-failures", { sqsManagedSseEnabled: true }, { arn: arn.queue("worker-failures") }),
    resource("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "worker-async", {
      functionName: "worker",
      destinationConfig: { onFailure: { destination: arn.queue("worker-failures") } },
      maximumEventAgeInSeconds: 120,
      maximumRetryAttempts: 0,
    }),
    resource("aws:appsync/dataSource:DataSource", "inbound-source", { name: "inbound_source", type: "AWS_LAMBDA", lambdaConfig: { functionArn: arn.fn("worker") } }),
    resource("aws:appsync/channelNamespace:ChannelNamespace", "inbound", {
      name: "Inbound-Messages",
      publishAuthModes: [{ authType: "AMAZON_COGNITO_USER_POOLS" }],
      subscribeAuthModes: [{ authType: "AWS_IAM" }],
      handlerConfigs: { onPublish: { behavior: "DIRECT", integration: { dataSourceName: "inbound_source", lambdaConfig: { invokeType: "EVENT" } } } },
    }),
    resource("aws:appsync/api:Api", "events-api", {
      eventConfig: {
        authProviders: [{ authType: "AMAZON_COGNITO_USER_POOLS", cognitoConfig: { userPoolId: "pool", awsRegion: REGION } }, { authType: "AWS_IAM" }],
        connectionAuthModes: [{ authType: "AMAZON_COGNITO_USER_POOLS" }],
        defaultPublishAuthModes: [{ authType: "AWS_IAM" }],
        defaultSubscribeAuthModes: [{ authType: "AWS_IAM" }],
        logConfig: { cloudwatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/appsync-logs`, logLevel: "ERROR" },
      },
    }),
    resource("aws:iam/rolePolicy:RolePolicy", "worker-policy", {
      role: "worker-role",
      policy: document(
        { Effect: "Allow", Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], Resource: COMPLIANT_BEDROCK_ARNS },
        { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: arn.table("usage") },
        { Effect: "Allow", Action: "sqs:SendMessage", Resource: arn.queue("worker-failures") },
      ),
    }),
    resource("aws:dynamodb/table:Table", "usage", {
      serverSideEncryption: { enabled: true },
      ttl: { enabled: true, attributeName: "ttl" },
      pointInTimeRecovery: { enabled: true },
    }),
    resource("aws:cognito/userPool:UserPool", "users", {
      mfaConfiguration: "ON",
      softwareTokenMfaConfiguration: { enabled: true },
      passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true, temporaryPasswordValidityDays: 3 },
    }),
    resource("aws:s3/bucket:Bucket", "analytics", { bucket }, { arn: `arn:aws:s3:::${bucket}` }),
    resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "analytics-block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "analytics-sse", {
      bucket,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
    }),
    resource("aws:s3/bucketPolicy:BucketPolicy", "analytics-tls", {
      bucket,
      policy: document({
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    }),
    resource("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "turns", {
      destination: "extended_s3",
      serverSideEncryption: { enabled: true },
      extendedS3Configuration: { bufferingSize: 64, dataFormatConversionConfiguration: { enabled: true } },
    }),
    resource("aws:athena/workgroup:Workgroup", "queries", {
      configuration: {
        enforceWorkgroupConfiguration: true,
        resultConfiguration: { outputLocation: `s3://${bucket}/athena-results/`, encryptionConfiguration: { encryptionOption: "SSE_S3" } },
      },
    }),
    ...webAppResources(),
    resource("aws:cloudwatch/metricAlarm:MetricAlarm", "worker-errors", {
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: "worker" },
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      evaluationPeriods: 1,
      alarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:alarms`],
    }),
  ];
}

/** The web app: a private bucket read by CloudFront through origin access control, with security headers. */
function webAppResources(): RecordedResource[] {
  const bucket = "chat-ui-bucket";
  const headers = resource(
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    "chat-ui-headers",
    {
      securityHeadersConfig: {
        contentSecurityPolicy: { contentSecurityPolicy: "default-src 'self'", override: true },
        strictTransportSecurity: { accessControlMaxAgeSec: 63072000, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: "DENY", override: true },
      },
    },
    { id: "chat-ui-headers-id" },
  );
  const behaviour = { targetOriginId: "web", viewerProtocolPolicy: "redirect-to-https", responseHeadersPolicyId: "chat-ui-headers-id" };
  return [
    resource("aws:s3/bucket:Bucket", "chat-ui", { bucket }, { arn: `arn:aws:s3:::${bucket}` }),
    resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "chat-ui-block", { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
    resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "chat-ui-sse", { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
    resource("aws:s3/bucketPolicy:BucketPolicy", "chat-ui-tls", {
      bucket,
      policy: document({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    }),
    headers,
    resource("aws:cloudfront/distribution:Distribution", "chat-ui-cdn", {
      origins: [{ originId: "web", domainName: `${bucket}.s3.${REGION}.amazonaws.com`, originAccessControlId: "chat-ui-oac-id" }],
      defaultCacheBehavior: behaviour,
      orderedCacheBehaviors: [{ ...behaviour, pathPattern: "/assets/*" }],
      viewerCertificate: { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1.2_2021" },
    }),
  ];
}

/** The stack with the resource named `name` replaced (or removed, when `change` returns undefined). */
export function changed(name: string, change: (r: RecordedResource) => RecordedResource | undefined, stack = compliantStack()): RecordedResource[] {
  if (!stack.some((r) => r.name === name)) throw new Error(`no resource ${name} in the fixture`);
  return stack.flatMap((r) => (r.name === name ? [change(r)].filter((x): x is RecordedResource => x !== undefined) : [r]));
}

export function withInputs(name: string, inputs: Record<string, any>, stack = compliantStack()): RecordedResource[] {
  return changed(name, (r) => ({ ...r, inputs: { ...r.inputs, ...inputs } }), stack);
}

/** One policy's outcome over `resources`. */
export async function outcome(policyName: string, resources: RecordedResource[], config: PackConfig = PACK_CONFIG): Promise<PolicyOutcome> {
  const policy = policies.find((p) => p.name === policyName);
  if (!policy) throw new Error(`no policy ${policyName}`);
  const [result] = await evaluatePolicies(resources, config, [policy]);
  return result!;
}

/** What every violation message says: the problem, then what to change (policies/support/values.ts withRemedy). */
const PROBLEM_AND_REMEDY = /^\S[\s\S]{9,}\. To fix: \S[\s\S]{7,}$/;

/** One policy's violation messages over `resources`, each checked to name a problem and its remedy. */
export async function violations(policyName: string, resources: RecordedResource[], config: PackConfig = PACK_CONFIG): Promise<string[]> {
  const messages = (await outcome(policyName, resources, config)).violations.map((v) => v.message);
  for (const message of messages) expect(message, `${policyName}: a message without its problem or remedy`).toMatch(PROBLEM_AND_REMEDY);
  return messages;
}
