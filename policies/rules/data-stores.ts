/**
 * DynamoDB, SQS and Firehose: everything that holds prompts, usage or dead letters is
 * encrypted; rows that expire are cleaned up by TTL; prod tables can be restored.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isRecord, withRemedy } from "../support/values";

const TABLE = "aws:dynamodb/table:Table";

export const dynamodbEncryption: ResourceValidationPolicy = {
  name: "dynamodb-encryption",
  description: "DynamoDB tables enable server-side encryption with a KMS key (AWS managed or customer managed).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set `serverSideEncryption: { enabled: true }` (optionally with kmsKeyArn).",
  validateResource: (args, reportViolation) => {
    if (args.type !== TABLE) return;
    const sse = args.props.serverSideEncryption;
    if (!isRecord(sse) || sse.enabled !== true) {
      reportViolation(withRemedy("serverSideEncryption is not enabled", "set serverSideEncryption: { enabled: true }"));
    }
  },
};

export interface TtlConfig {
  tablesWithoutExpiry: string[];
}

export const dynamodbTtl: ResourceValidationPolicy = {
  name: "dynamodb-ttl",
  description: "DynamoDB tables with expiring rows (usage, conversations, cache, idempotency) have TTL enabled on their expiry attribute.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set `ttl: { enabled: true, attributeName: <expiry attribute> }` (functions/lib/tables.ts names it); list a table in tablesWithoutExpiry only if its rows never expire.",
  configSchema: {
    properties: {
      tablesWithoutExpiry: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Pulumi resource names of tables whose rows never expire.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== TABLE) return;
    if (args.getConfig<TtlConfig>().tablesWithoutExpiry.includes(args.name)) return;
    const ttl = args.props.ttl;
    if (!isRecord(ttl) || ttl.enabled !== true || !ttl.attributeName) {
      reportViolation(withRemedy(`table ${args.name} has no TTL, so expired rows are never deleted`, "enable ttl on the table's expiry attribute"));
    }
  },
};

export interface PitrConfig {
  required: boolean;
}

export const dynamodbPitr: ResourceValidationPolicy = {
  name: "dynamodb-point-in-time-recovery",
  description: "DynamoDB tables have point-in-time recovery where the stack requires it (prod).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set `ai-gateway:protection.pointInTimeRecovery: true` in the stack file (the tables component passes pointInTimeRecovery.enabled).",
  configSchema: {
    properties: { required: { type: "boolean", default: false, description: "Whether every table must have PITR." } },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== TABLE || !args.getConfig<PitrConfig>().required) return;
    const pitr = args.props.pointInTimeRecovery;
    if (!isRecord(pitr) || pitr.enabled !== true) {
      reportViolation(withRemedy(`table ${args.name} has no point-in-time recovery`, "enable pointInTimeRecovery (ai-gateway:protection.pointInTimeRecovery)"));
    }
  },
};

export const sqsEncryption: ResourceValidationPolicy = {
  name: "sqs-encryption",
  description: "SQS queues (the worker's dead letters carry prompts and JWTs) are encrypted at rest.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set `sqsManagedSseEnabled: true` or `kmsMasterKeyId`.",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:sqs/queue:Queue") return;
    if (args.props.sqsManagedSseEnabled !== true && !args.props.kmsMasterKeyId) {
      reportViolation(withRemedy(`queue ${args.name} is not encrypted`, "set sqsManagedSseEnabled: true or a kmsMasterKeyId"));
    }
  },
};

export const firehoseEncryption: ResourceValidationPolicy = {
  name: "firehose-encryption",
  description: "Firehose delivery streams encrypt records at rest.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set `serverSideEncryption: { enabled: true }` (DirectPut streams) or read from an encrypted Kinesis stream.",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream") return;
    // A Kinesis-sourced stream inherits the source stream's encryption and may not set its own.
    if (isRecord(args.props.kinesisSourceConfiguration)) return;
    const sse = args.props.serverSideEncryption;
    if (!isRecord(sse) || sse.enabled !== true) {
      reportViolation(withRemedy(`delivery stream ${args.name} does not encrypt records at rest`, "set serverSideEncryption: { enabled: true }"));
    }
  },
};

export const dataStorePolicies = [dynamodbEncryption, dynamodbTtl, dynamodbPitr, sqsEncryption, firehoseEncryption];
