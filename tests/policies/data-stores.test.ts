import { describe, expect, it } from "vitest";
import { resource, violations, withInputs, compliantStack } from "./fixtures.js";

describe("dynamodb-encryption", () => {
  it("refuses a table without server-side encryption", async () => {
    expect(await violations("dynamodb-encryption", withInputs("usage", { serverSideEncryption: undefined }))).toEqual([expect.stringContaining("serverSideEncryption is not enabled")]);
  });
});

describe("dynamodb-ttl", () => {
  it("refuses a table without TTL", async () => {
    expect(await violations("dynamodb-ttl", withInputs("usage", { ttl: { enabled: false } }))).toEqual([expect.stringContaining("table usage has no TTL, so expired rows are never deleted")]);
  });

  it("accepts a table the stack's config lists as never expiring", async () => {
    expect(await violations("dynamodb-ttl", withInputs("usage", { ttl: undefined }), { "dynamodb-ttl": { tablesWithoutExpiry: ["usage"] } })).toEqual([]);
  });
});

describe("dynamodb-point-in-time-recovery", () => {
  it("refuses a table without PITR when the stack requires it", async () => {
    expect(await violations("dynamodb-point-in-time-recovery", withInputs("usage", { pointInTimeRecovery: { enabled: false } }))).toEqual([
      expect.stringContaining("table usage has no point-in-time recovery"),
    ]);
  });

  it("accepts a table without PITR when the stack does not require it", async () => {
    const config = { "dynamodb-point-in-time-recovery": { required: false } };
    expect(await violations("dynamodb-point-in-time-recovery", withInputs("usage", { pointInTimeRecovery: undefined }), config)).toEqual([]);
  });
});

describe("dynamodb-point-in-time-recovery, by default", () => {
  it("does not require PITR when the stack's policy config says nothing about it", async () => {
    expect(await violations("dynamodb-point-in-time-recovery", withInputs("usage", { pointInTimeRecovery: undefined }), {})).toEqual([]);
  });
});

describe("sqs-encryption", () => {
  it("refuses an unencrypted queue", async () => {
    expect(await violations("sqs-encryption", withInputs("worker-failures", { sqsManagedSseEnabled: false }))).toEqual([expect.stringContaining("queue worker-failures is not encrypted")]);
  });

  it("accepts a queue encrypted with a KMS key", async () => {
    expect(await violations("sqs-encryption", withInputs("worker-failures", { sqsManagedSseEnabled: undefined, kmsMasterKeyId: "alias/aws/sqs" }))).toEqual([]);
  });
});

describe("firehose-encryption", () => {
  it("refuses a DirectPut delivery stream without encryption at rest", async () => {
    expect(await violations("firehose-encryption", withInputs("turns", { serverSideEncryption: { enabled: false } }))).toEqual([
      expect.stringContaining("delivery stream turns does not encrypt records at rest"),
    ]);
  });

  it("accepts a stream fed by a Kinesis stream, which carries its own encryption", async () => {
    const stream = resource("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "from-kinesis", { kinesisSourceConfiguration: { kinesisStreamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/x", roleArn: "r" } });
    expect(await violations("firehose-encryption", [...compliantStack(), stream])).toEqual([]);
  });
});

describe("data store policies, case by case", () => {
  it("wants encryption enabled, not merely declared", async () => {
    expect(await violations("dynamodb-encryption", withInputs("usage", { serverSideEncryption: { enabled: false } }))).toEqual([
      "serverSideEncryption is not enabled. To fix: set serverSideEncryption: { enabled: true }",
    ]);
  });

  it("wants TTL enabled on a named attribute", async () => {
    expect(await violations("dynamodb-ttl", withInputs("usage", { ttl: { enabled: true } }))).toHaveLength(1);
    expect(await violations("dynamodb-ttl", withInputs("usage", { ttl: { enabled: "true", attributeName: "ttl" } }))).toHaveLength(1);
    expect(await violations("dynamodb-ttl", withInputs("usage", { ttl: { enabled: true, attributeName: "expiresAt" } }))).toEqual([]);
  });
});
