/**
 * Analytics (DESIGN 7): one record per chat turn from the worker, through a Firehose delivery
 * stream that converts it to Parquet by the Glue table's schema and writes it to S3 under
 * `turns/year=/month=/day=/`; the Glue table reads those folders with partition projection, and
 * an Athena workgroup (results encrypted, its settings enforced) holds the named queries.
 * The columns and queries are defined once in functions/lib/analytics and run locally too.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FIREHOSE_PARTITION_PREFIX, PARTITION_KEYS, RECORDS_PREFIX, TURN_COLUMNS } from "../functions/lib/analytics/columns.js";
import { athenaDialect, NAMED_QUERIES } from "../functions/lib/analytics/queries.js";
import { assumeRolePolicy, policyDocument, type PolicyStatement } from "./lib/iam.js";

/** Firehose's minimum buffer when it converts record formats. */
export const CONVERSION_MIN_BUFFER_MIB = 64;
export const ERRORS_PREFIX = "errors/";
export const RESULTS_PREFIX = "athena-results/";
/** Projection bounds for `year`: the first year records can exist, and far enough ahead. */
export const PROJECTED_YEARS = { first: 2025, last: 2099 } as const;

export interface AnalyticsArgs {
  /** Days records (and conversion errors) are kept before the lifecycle deletes them. */
  retentionDays: number;
  /** Retention of the delivery stream's error log group (a CloudWatch retention value). */
  logRetentionDays: number;
  /** The Glue database name: lowercase letters, digits and `_`, unique in the account and region. */
  databaseName: string;
  /** The region, for the Glue catalog the stream reads. */
  region: string;
  /** The account id, for Glue ARNs and the trust condition. */
  accountId: pulumi.Input<string>;
  /** The AWS partition (`aws`, `aws-cn`...), for ARNs. @default "aws" */
  partition?: pulumi.Input<string>;
  /** Seconds Firehose buffers before writing a file (60..900). @default 300 */
  bufferIntervalSeconds?: number;
  /** Days Athena's query results are kept. @default 30 */
  resultRetentionDays?: number;
  /** Most data one Athena query may scan, in bytes. @default 10 GiB */
  bytesScannedCutoffPerQuery?: number;
  /** Let `pulumi destroy` delete a bucket that still holds records. @default false */
  forceDestroy?: boolean;
}

export class Analytics extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly database: aws.glue.CatalogDatabase;
  readonly table: aws.glue.CatalogTable;
  readonly role: aws.iam.Role;
  readonly deliveryStream: aws.kinesis.FirehoseDeliveryStream;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly workgroup: aws.athena.Workgroup;
  readonly namedQueries: aws.athena.NamedQuery[];

  constructor(name: string, args: AnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Analytics", name, {}, opts);
    const { bufferIntervalSeconds, resultRetentionDays, bytesScannedCutoffPerQuery, forceDestroy, partition } = {
      bufferIntervalSeconds: 300,
      resultRetentionDays: 30,
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      forceDestroy: false,
      partition: "aws",
      ...args,
    };
    if (bufferIntervalSeconds < 60 || bufferIntervalSeconds > 900) throw new Error(`bufferIntervalSeconds must be within 60..900, got ${bufferIntervalSeconds}`);
    const parent = { parent: this };

    this.bucket = new aws.s3.Bucket(`${name}-records`, { forceDestroy }, parent);
    const bucketName = this.bucket.bucket;
    new aws.s3.BucketOwnershipControls(`${name}-records-ownership`, { bucket: bucketName, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
    new aws.s3.BucketPublicAccessBlock(
      `${name}-records-public-access`,
      { bucket: bucketName, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-records-encryption`,
      { bucket: bucketName, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      parent,
    );
    new aws.s3.BucketPolicy(
      `${name}-records-tls-only`,
      {
        bucket: bucketName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyPlainHttp",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      parent,
    );
    const expire = (id: string, prefix: string, days: number) => ({ id, status: "Enabled", filter: { prefix }, expiration: { days } });
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-records-lifecycle`,
      {
        bucket: bucketName,
        rules: [
          expire("expire-records", RECORDS_PREFIX, args.retentionDays),
          expire("expire-conversion-errors", ERRORS_PREFIX, args.retentionDays),
          expire("expire-query-results", RESULTS_PREFIX, resultRetentionDays),
          { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
        ],
      },
      parent,
    );

    this.database = new aws.glue.CatalogDatabase(`${name}-database`, { name: args.databaseName, description: "AI gateway analytics" }, parent);
    const recordsLocation = pulumi.interpolate`s3://${bucketName}/${RECORDS_PREFIX}`;
    this.table = new aws.glue.CatalogTable(
      `${name}-turns`,
      {
        name: "turns",
        databaseName: this.database.name,
        description: "One row per chat turn, written by Firehose as Parquet",
        tableType: "EXTERNAL_TABLE",
        parameters: { classification: "parquet", EXTERNAL: "TRUE", ...partitionProjection(recordsLocation) },
        partitionKeys: PARTITION_KEYS.map((key) => ({ name: key, type: "string" })),
        storageDescriptor: {
          location: recordsLocation,
          inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
          outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
          serDeInfo: { serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", parameters: { "serialization.format": "1" } },
          columns: TURN_COLUMNS.map((c) => ({ name: c.name, type: c.type, comment: c.comment })),
        },
      },
      parent,
    );

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-delivery-logs`, { namePrefix: `/aws/kinesisfirehose/${name}-`, retentionInDays: args.logRetentionDays }, parent);
    const logStream = new aws.cloudwatch.LogStream(`${name}-delivery-log-stream`, { logGroupName: this.logGroup.name, name: "DestinationDelivery" }, parent);

    this.role = new aws.iam.Role(
      `${name}-delivery-role`,
      {
        description: `Firehose delivery of ${name} records to their bucket`,
        assumeRolePolicy: assumeRolePolicy("firehose.amazonaws.com", { StringEquals: { "aws:SourceAccount": args.accountId } }),
      },
      parent,
    );
    const catalogArn = (kind: string, path: pulumi.Input<string>) =>
      pulumi.interpolate`arn:${partition}:glue:${args.region}:${args.accountId}:${kind}${path}`;
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-delivery-policy`,
      {
        role: this.role.id,
        policy: policyDocument(
          deliveryStatements({
            bucketArn: this.bucket.arn,
            glueArns: [
              catalogArn("catalog", ""),
              catalogArn("database/", this.database.name),
              catalogArn("table/", pulumi.interpolate`${this.database.name}/${this.table.name}`),
            ],
            logGroupArn: this.logGroup.arn,
          }),
        ),
      },
      parent,
    );

    this.deliveryStream = new aws.kinesis.FirehoseDeliveryStream(
      `${name}-delivery`,
      {
        destination: "extended_s3",
        serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
        extendedS3Configuration: {
          roleArn: this.role.arn,
          bucketArn: this.bucket.arn,
          prefix: `${RECORDS_PREFIX}${FIREHOSE_PARTITION_PREFIX}`,
          errorOutputPrefix: `${ERRORS_PREFIX}!{firehose:error-output-type}/${FIREHOSE_PARTITION_PREFIX}`,
          bufferingSize: CONVERSION_MIN_BUFFER_MIB,
          bufferingInterval: bufferIntervalSeconds,
          // Parquet compresses itself (SNAPPY below); Firehose refuses another layer with conversion.
          compressionFormat: "UNCOMPRESSED",
          cloudwatchLoggingOptions: { enabled: true, logGroupName: this.logGroup.name, logStreamName: logStream.name },
          dataFormatConversionConfiguration: {
            enabled: true,
            // The worker sends turn_at in epoch milliseconds.
            inputFormatConfiguration: { deserializer: { hiveJsonSerDe: { timestampFormats: ["millis"] } } },
            outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
            schemaConfiguration: {
              databaseName: this.database.name,
              tableName: this.table.name,
              roleArn: this.role.arn,
              region: args.region,
              catalogId: args.accountId,
            },
          },
        },
      },
      // Firehose checks its role's access to the bucket and the table when the stream is created.
      { parent: this, dependsOn: [rolePolicy] },
    );

    this.workgroup = new aws.athena.Workgroup(
      `${name}-queries`,
      {
        description: "AI gateway analytics: the named queries over the turns table",
        state: "ENABLED",
        forceDestroy: true,
        configuration: {
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery,
          engineVersion: { selectedEngineVersion: "Athena engine version 3" },
          resultConfiguration: {
            outputLocation: pulumi.interpolate`s3://${bucketName}/${RESULTS_PREFIX}`,
            encryptionConfiguration: { encryptionOption: "SSE_S3" },
          },
        },
      },
      parent,
    );

    this.namedQueries = NAMED_QUERIES.map(
      (query) =>
        new aws.athena.NamedQuery(
          `${name}-${query.name}`,
          {
            name: query.name,
            description: query.description,
            database: this.database.name,
            workgroup: this.workgroup.name,
            query: pulumi.all([this.database.name, this.table.name]).apply(([database, table]) => query.sql(athenaDialect(database, table))),
          },
          parent,
        ),
    );

    this.registerOutputs({
      bucketName,
      deliveryStreamName: this.deliveryStream.name,
      databaseName: this.database.name,
      tableName: this.table.name,
      workgroupName: this.workgroup.name,
    });
  }
}

/**
 * Partition projection over `turns/year=YYYY/month=MM/day=DD/`: the folders Firehose's prefix
 * writes (two-digit month and day), so Athena finds partitions without a crawler or
 * `MSCK REPAIR`.
 */
export function partitionProjection(recordsLocation: pulumi.Input<string>): Record<string, pulumi.Input<string>> {
  return {
    "projection.enabled": "true",
    "projection.year.type": "integer",
    "projection.year.range": `${PROJECTED_YEARS.first},${PROJECTED_YEARS.last}`,
    "projection.month.type": "integer",
    "projection.month.range": "1,12",
    "projection.month.digits": "2",
    "projection.day.type": "integer",
    "projection.day.range": "1,31",
    "projection.day.digits": "2",
    "storage.location.template": pulumi.interpolate`${recordsLocation}year=\${year}/month=\${month}/day=\${day}/`,
  };
}

/** What Firehose needs: write its bucket, read the table's schema, log its delivery errors. */
function deliveryStatements(refs: { bucketArn: pulumi.Input<string>; glueArns: pulumi.Input<string>[]; logGroupArn: pulumi.Input<string> }): PolicyStatement[] {
  return [
    { Sid: "LocateRecordsBucket", Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], Resource: [refs.bucketArn] },
    {
      Sid: "WriteRecordsAndErrors",
      Effect: "Allow",
      Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
      Resource: [pulumi.interpolate`${refs.bucketArn}/${RECORDS_PREFIX}*`, pulumi.interpolate`${refs.bucketArn}/${ERRORS_PREFIX}*`],
    },
    { Sid: "ReadTableSchema", Effect: "Allow", Action: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"], Resource: refs.glueArns },
    { Sid: "LogDeliveryErrors", Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: [pulumi.interpolate`${refs.logGroupArn}:*`] },
  ];
}
