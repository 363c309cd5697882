/**
 * The dev stack's analytics and observability resources under Pulumi mocks: the records
 * bucket, the Firehose stream converting to Parquet, the Glue table whose projection matches
 * the stream's prefix, Athena with the named queries, and the dashboard, alarms and saved log
 * queries, with their IAM scoped to exactly their resources.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FIREHOSE_PARTITION_PREFIX, TURN_COLUMNS } from "../../functions/lib/analytics/columns.js";
import { athenaDialect, NAMED_QUERIES } from "../../functions/lib/analytics/queries.js";
import { ENV } from "../../functions/lib/env.js";
import { LOG_QUERIES } from "../../functions/lib/observability/log-queries.js";
import { METRIC, METRICS_SERVICE } from "../../functions/lib/observability/metrics.js";
import { readStackConfig } from "../../local/config.js";
import { MOCK_ACCOUNT_ID } from "../../tools/awsMocks.js";
import { runMockedStack, type MockedResource } from "../../tools/mocked-stack.js";
import { actionsOf, one, ofType, resourcesOf, roleOf, roleStatements, statementsOf, T } from "./stackQueries.js";

const config = readStackConfig({ stack: "dev" }).config;
let resources: MockedResource[];
beforeAll(async () => {
  ({ resources } = await runMockedStack({ stack: "dev" }));
});

const A = {
  bucket: "aws:s3/bucket:Bucket",
  stream: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  database: "aws:glue/catalogDatabase:CatalogDatabase",
  table: "aws:glue/catalogTable:CatalogTable",
  workgroup: "aws:athena/workgroup:Workgroup",
  namedQuery: "aws:athena/namedQuery:NamedQuery",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  queryDefinition: "aws:cloudwatch/queryDefinition:QueryDefinition",
};
const bucket = () => one(resources, A.bucket, "analytics-records");
const bucketName = () => bucket().state.bucket as string;
const stream = () => one(resources, A.stream);
const s3Config = () => stream().inputs.extendedS3Configuration;
const table = () => one(resources, A.table);
/** One S3 companion resource of the records bucket (the web app has a bucket of its own). */
const companion = (type: string) => {
  const found = ofType(resources, `aws:s3/${type}`).filter((r) => r.name.startsWith("gateway-analytics-"));
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

describe("analytics: the records bucket", () => {
  it("is encrypted, closed to the public, TLS-only, and keeps records analytics.retentionDays", () => {
    expect(companion("bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs).toMatchObject({
      bucket: bucketName(),
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    expect(companion("bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toEqual({
      bucket: bucketName(),
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const [deny] = statementsOf(companion("bucketPolicy:BucketPolicy").inputs.policy);
    expect(deny).toMatchObject({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [bucket().state.arn, `${bucket().state.arn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    const rules = companion("bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules;
    expect(config.analytics.retentionDays).toBe(90);
    expect(rules).toEqual(
      expect.arrayContaining([
        { id: "expire-records", status: "Enabled", filter: { prefix: "turns/" }, expiration: { days: 90 } },
        { id: "expire-conversion-errors", status: "Enabled", filter: { prefix: "errors/" }, expiration: { days: 90 } },
        expect.objectContaining({ filter: { prefix: "athena-results/" } }),
      ]),
    );
    // Dev stacks are torn down often; prod (deletion protection) keeps a bucket with records.
    expect(bucket().inputs.forceDestroy).toBe(true);
  });
});

describe("analytics: Firehose to Parquet", () => {
  it("encrypts records and writes Parquet by the Glue table's schema, buffering the 64 MiB conversion requires", () => {
    expect(stream().inputs).toMatchObject({ destination: "extended_s3", serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" } });
    expect(s3Config()).toMatchObject({
      bucketArn: bucket().state.arn,
      prefix: `turns/${FIREHOSE_PARTITION_PREFIX}`,
      errorOutputPrefix: `errors/!{firehose:error-output-type}/${FIREHOSE_PARTITION_PREFIX}`,
      bufferingSize: 64,
      compressionFormat: "UNCOMPRESSED",
      dataFormatConversionConfiguration: {
        enabled: true,
        inputFormatConfiguration: { deserializer: { hiveJsonSerDe: { timestampFormats: ["millis"] } } },
        outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
        schemaConfiguration: { databaseName: "ai_gateway_dev_analytics", tableName: "turns", region: "us-east-1", catalogId: MOCK_ACCOUNT_ID },
      },
    });
    expect(FIREHOSE_PARTITION_PREFIX).toBe("year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/");
    const logGroup = ofType(resources, T.logGroup).find((g) => g.state.name === s3Config().cloudwatchLoggingOptions.logGroupName);
    expect(logGroup?.inputs.retentionInDays).toBe(config.observability.logRetentionDays);
  });

  it("has a role that may write only its bucket's record and error folders, read only its table, and log only to its group", () => {
    const role = ofType(resources, T.role).find((r) => r.state.arn === s3Config().roleArn)!;
    expect(s3Config().dataFormatConversionConfiguration.schemaConfiguration.roleArn).toBe(role.state.arn);
    const [trust] = statementsOf(role.inputs.assumeRolePolicy);
    expect(trust).toMatchObject({ Principal: { Service: "firehose.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } } });
    const statements = roleStatements(resources, role);
    const arn = bucket().state.arn;
    const glue = `arn:aws:glue:us-east-1:${MOCK_ACCOUNT_ID}`;
    const byService = (service: string) => statements.filter((s) => actionsOf(s).every((a) => a.startsWith(`${service}:`)));
    expect(byService("s3").flatMap(resourcesOf).sort()).toEqual([arn, `${arn}/errors/*`, `${arn}/turns/*`]);
    expect(byService("glue").flatMap(actionsOf).sort()).toEqual(["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]);
    expect(byService("glue").flatMap(resourcesOf).sort()).toEqual([`${glue}:catalog`, `${glue}:database/ai_gateway_dev_analytics`, `${glue}:table/ai_gateway_dev_analytics/turns`]);
    expect(byService("logs").flatMap(resourcesOf)).toEqual([expect.stringMatching(/^arn:aws:logs:.*:log-group:\/aws\/kinesisfirehose\/.*:\*$/)]);
    expect(statements).toHaveLength(byService("s3").length + byService("glue").length + byService("logs").length);
  });

  it("lets the chat worker put records to that stream only, named in its environment", () => {
    const worker = one(resources, T.fn, "worker-chat-function");
    expect(worker.inputs.environment.variables[ENV.analyticsStream]).toBe(stream().state.name);
    const firehose = roleStatements(resources, roleOf(resources, worker)).filter((s) => actionsOf(s).some((a) => a.startsWith("firehose:")));
    expect(firehose).toEqual([expect.objectContaining({ Action: ["firehose:PutRecord", "firehose:PutRecordBatch"], Resource: [stream().state.arn] })]);
  });
});

describe("analytics: Glue table and Athena", () => {
  it("declares the record's columns and year/month/day partitions projected onto exactly the paths Firehose writes", () => {
    const { inputs } = table();
    expect(inputs.storageDescriptor.columns).toEqual(TURN_COLUMNS.map((c) => ({ name: c.name, type: c.type, comment: c.comment })));
    expect(inputs.partitionKeys.map((k: { name: string }) => k.name)).toEqual(["year", "month", "day"]);
    expect(inputs.storageDescriptor.location).toBe(`s3://${bucketName()}/turns/`);
    expect(inputs.storageDescriptor.serDeInfo.serializationLibrary).toBe("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe");
    const p = inputs.parameters;
    expect(p).toMatchObject({ "projection.enabled": "true", "projection.month.digits": "2", "projection.day.digits": "2", "projection.month.range": "1,12", "projection.day.range": "1,31" });
    // The template is Firehose's prefix with each timestamp pattern replaced by its partition key.
    const firehosePath = `s3://${bucketName()}/${s3Config().prefix}`;
    const asTemplate = firehosePath.replace("!{timestamp:yyyy}", "${year}").replace("!{timestamp:MM}", "${month}").replace("!{timestamp:dd}", "${day}");
    expect(p["storage.location.template"]).toBe(asTemplate);
    expect(p["storage.location.template"]).toBe(`s3://${bucketName()}/turns/year=\${year}/month=\${month}/day=\${day}/`);
    const [firstYear] = p["projection.year.range"].split(",").map(Number);
    expect(firstYear).toBeLessThanOrEqual(new Date().getUTCFullYear());
  });

  it("runs Athena queries in a workgroup that enforces encrypted results in the records bucket", () => {
    expect(one(resources, A.workgroup).inputs.configuration).toMatchObject({
      enforceWorkgroupConfiguration: true,
      resultConfiguration: { outputLocation: `s3://${bucketName()}/athena-results/`, encryptionConfiguration: { encryptionOption: "SSE_S3" } },
    });
  });

  it("saves every named query in Athena's dialect against the turns table", () => {
    const saved = ofType(resources, A.namedQuery);
    expect(saved.map((q) => q.inputs.name).sort()).toEqual(NAMED_QUERIES.map((q) => q.name).sort());
    for (const query of NAMED_QUERIES) {
      const resource = saved.find((q) => q.inputs.name === query.name)!;
      expect(resource.inputs).toMatchObject({ database: "ai_gateway_dev_analytics", workgroup: one(resources, A.workgroup).state.name });
      expect(resource.inputs.query).toBe(query.sql(athenaDialect("ai_gateway_dev_analytics", "turns")));
      expect(resource.inputs.query).toContain('FROM "ai_gateway_dev_analytics"."turns"');
    }
    const latency = saved.find((q) => q.inputs.name === "p95-latency-by-model")!.inputs.query;
    expect(latency).toContain("approx_percentile(first_token_ms, 0.95)");
    expect(latency).not.toContain("quantile_cont");
  });
});

describe("observability: dashboard, alarms, saved log queries, log retention", () => {
  const modelIds = config.models.map((m) => m.id);

  it("draws the gateway's metrics per model, the worker's Lambda health, the dead-letter queue and analytics delivery", () => {
    const body = JSON.parse(one(resources, A.dashboard).inputs.dashboardBody) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] };
    const lines = body.widgets.flatMap((w) => w.properties.metrics);
    const ns = config.observability.metricsNamespace;
    for (const metric of [METRIC.inputTokens, METRIC.outputTokens, METRIC.firstTokenLatency, METRIC.responseLatency, METRIC.cacheHits, METRIC.limitRefusals, METRIC.modelErrors, METRIC.modelThrottles, METRIC.guardrailInterventions]) {
      for (const id of modelIds) {
        expect(lines, `${metric} ${id}`).toContainEqual([ns, metric, "service", METRICS_SERVICE, "ModelId", id, expect.any(Object)]);
      }
    }
    const worker = one(resources, T.fn, "worker-chat-function").state.name;
    for (const metric of ["Errors", "Throttles", "Duration", "ConcurrentExecutions"]) {
      expect(lines, metric).toContainEqual(["AWS/Lambda", metric, "FunctionName", worker, expect.any(Object)]);
    }
    expect(lines).toContainEqual(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", one(resources, T.queue).state.name, expect.any(Object)]);
    expect(lines).toContainEqual([ns, METRIC.analyticsDeliveryFailures, "service", METRICS_SERVICE, expect.any(Object)]);
    expect(lines).toContainEqual(["AWS/Firehose", "IncomingRecords", "DeliveryStreamName", stream().state.name, expect.any(Object)]);
    expect(one(resources, A.dashboard).inputs.dashboardName).toBe("ai-gateway-dev");
  });

  it("alarms on worker errors and throttles, model throttles, p99 latency and dead-letter depth, all to the alarms topic", () => {
    const topic = one(resources, "aws:sns/topic:Topic").state.arn;
    const alarms = ofType(resources, A.alarm).map((a) => a.inputs);
    for (const alarm of alarms) expect(alarm).toMatchObject({ alarmActions: [topic], okActions: [topic], treatMissingData: "notBreaching" });
    const has = (metricName: string, extra: Record<string, unknown> = {}) => expect(alarms, metricName).toContainEqual(expect.objectContaining({ metricName, ...extra }));
    has("Errors");
    has("Throttles");
    has("Duration", { extendedStatistic: "p99" });
    has("ApproximateNumberOfMessagesVisible");
    for (const id of modelIds) has(METRIC.firstTokenLatency, { extendedStatistic: "p99", dimensions: { service: METRICS_SERVICE, ModelId: id } });
    const throttles = alarms.find((a) => a.metricQueries)!;
    expect(throttles.metricQueries.filter((q: { metric?: { metricName: string } }) => q.metric?.metricName === METRIC.modelThrottles)).toHaveLength(modelIds.length);
    expect(throttles.metricQueries.find((q: { returnData: boolean }) => q.returnData).expression).toMatch(/^SUM\(\[m0, m1, m2, m3\]\)$/);
  });

  it("saves the seed's two Logs Insights queries, errors by code and top users by tokens, over the worker's logs", () => {
    const saved = ofType(resources, A.queryDefinition);
    const workerLogs = one(resources, T.fn, "worker-chat-function").inputs.loggingConfig.logGroup;
    expect(saved.map((q) => q.inputs.name).sort()).toEqual(LOG_QUERIES.map((q) => `ai-gateway-dev/${q.name}`).sort());
    for (const q of saved) {
      expect(q.inputs.logGroupNames).toEqual([workerLogs]);
      expect(q.inputs.queryString).toMatch(/^fields @timestamp, @message/);
    }
    const seed = saved.find((q) => q.inputs.name.endsWith("users-with-most-conversations"))!.inputs.queryString;
    expect(seed).toContain("stats count_distinct(conversation_id) as conversation_count by user_id");
    expect(saved.find((q) => q.inputs.name.endsWith("unique-users-per-5-minutes"))!.inputs.queryString).toContain("count_distinct(user_id) as unique_users by bin(5m)");
  });

  it("gives every log group the stack's retention, and every function a log group of its own", () => {
    const groups = ofType(resources, T.logGroup);
    expect(groups.length).toBeGreaterThanOrEqual(5);
    for (const group of groups) expect(group.inputs.retentionInDays, group.name).toBe(config.observability.logRetentionDays);
    const names = new Set(groups.map((g) => g.state.name));
    for (const fn of ofType(resources, T.fn)) expect(names.has(fn.inputs.loggingConfig.logGroup), fn.name).toBe(true);
  });
});
