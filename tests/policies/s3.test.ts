import { describe, expect, it } from "vitest";
import { changed, compliantStack, document, resource, violations, withInputs } from "./fixtures.js";

describe("s3-public-access-blocked", () => {
  it("passes a bucket with all four public access settings on", async () => {
    expect(await violations("s3-public-access-blocked", compliantStack())).toEqual([]);
  });

  it("refuses a bucket without a public access block", async () => {
    expect(await violations("s3-public-access-blocked", changed("analytics-block", () => undefined))).toEqual([
      expect.stringContaining("bucket analytics does not block public access (all settings)"),
    ]);
  });

  it("names the setting left off", async () => {
    expect(await violations("s3-public-access-blocked", withInputs("analytics-block", { restrictPublicBuckets: false }))).toEqual([
      expect.stringContaining("(restrictPublicBuckets)"),
    ]);
  });
});

describe("s3-encryption", () => {
  it("refuses a bucket without default encryption", async () => {
    expect(await violations("s3-encryption", changed("analytics-sse", () => undefined))).toEqual([expect.stringContaining("bucket analytics declares no default encryption")]);
  });

  it("accepts encryption declared inline on the bucket", async () => {
    const stack = withInputs("analytics", { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } } }, changed("analytics-sse", () => undefined));
    expect(await violations("s3-encryption", stack)).toEqual([]);
  });
});

describe("s3-tls-only", () => {
  it("refuses a bucket without a TLS-only policy", async () => {
    expect(await violations("s3-tls-only", changed("analytics-tls", () => undefined))).toEqual([expect.stringContaining("bucket analytics accepts plain-HTTP requests")]);
  });

  it("refuses a bucket policy that only allows, never denies, plain HTTP", async () => {
    const allowOnly = document({ Effect: "Allow", Principal: { Service: "firehose.amazonaws.com" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::analytics-bucket/*" });
    expect(await violations("s3-tls-only", withInputs("analytics-tls", { policy: allowOnly }))).toEqual([expect.stringContaining("accepts plain-HTTP requests")]);
  });

  it("checks every bucket, each against its own policy", async () => {
    const web = resource("aws:s3/bucket:Bucket", "web", { bucket: "web-bucket" });
    const found = await violations("s3-tls-only", [...compliantStack(), web]);
    expect(found).toEqual([expect.stringContaining("bucket web accepts plain-HTTP requests")]);
  });
});

describe("s3 policies, case by case", () => {
  const bucket = "analytics-bucket";
  const tlsDeny = (overrides: Record<string, unknown>) => ({
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
    ...overrides,
  });
  const tlsViolations = (...statements: Record<string, unknown>[]) => violations("s3-tls-only", withInputs("analytics-tls", { policy: document(...statements) }));

  it("needs one block with every setting, and names the settings no block turns on", async () => {
    const second = resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "analytics-block-2", { bucket, restrictPublicBuckets: true });
    const split = withInputs("analytics-block", { ignorePublicAcls: false, restrictPublicBuckets: false }, [...compliantStack(), second]);
    expect(await violations("s3-public-access-blocked", split)).toEqual([expect.stringContaining("(ignorePublicAcls). To fix: add a BucketPublicAccessBlock")]);
    const two = withInputs("analytics-block", { ignorePublicAcls: false, restrictPublicBuckets: false });
    expect(await violations("s3-public-access-blocked", two)).toEqual([expect.stringContaining("(ignorePublicAcls, restrictPublicBuckets)")]);
  });

  it("counts only AES256 or aws:kms as default encryption, from any rule of any configuration", async () => {
    const weak = withInputs("analytics-sse", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "none" } }] });
    expect(await violations("s3-encryption", weak)).toEqual([expect.stringContaining("bucket analytics declares no default encryption. To fix: add a BucketServer")]);
    expect(await violations("s3-encryption", withInputs("analytics-sse", { rules: [{ bucketKeyEnabled: true }] }))).toHaveLength(1);
    const mixed = withInputs("analytics-sse", { rules: [{ bucketKeyEnabled: true }, { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    expect(await violations("s3-encryption", mixed)).toEqual([]);
  });

  it("accepts dual-layer KMS encryption, declared by the V2 encryption configuration too", async () => {
    expect(await violations("s3-encryption", withInputs("analytics-sse", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms:dsse" } }] }))).toEqual([]);
    const v2 = changed("analytics-sse", (r) => ({ ...r, type: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2" }));
    expect(await violations("s3-encryption", v2)).toEqual([]);
  });

  it("accepts a Deny of every action or of s3:* in any case, with the condition as string, boolean or list", async () => {
    expect(await tlsViolations(tlsDeny({ Action: "*" }))).toEqual([]);
    expect(await tlsViolations(tlsDeny({ Action: ["s3:GetObject", "S3:*"] }))).toEqual([]);
    expect(await tlsViolations(tlsDeny({ Condition: { Bool: { "aws:SecureTransport": false } } }))).toEqual([]);
    expect(await tlsViolations(tlsDeny({ Condition: { Bool: { "aws:SecureTransport": ["true", "false"] } } }))).toEqual([]);
    expect(await tlsViolations({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` }, tlsDeny({}))).toEqual([]);
  });

  it("refuses an Allow, a Deny of some actions only, or a Deny not conditioned on plain HTTP", async () => {
    const refused = [expect.stringContaining('accepts plain-HTTP requests. To fix: add a bucket policy statement denying s3:* when aws:SecureTransport is "false"')];
    expect(await tlsViolations(tlsDeny({ Effect: "Allow" }))).toEqual(refused);
    expect(await tlsViolations(tlsDeny({ Action: ["s3:GetObject", "s3:PutObject"] }))).toEqual(refused);
    expect(await tlsViolations(tlsDeny({ Condition: { StringEquals: { "aws:SecureTransport": "false" } } }))).toEqual(refused);
    expect(await tlsViolations(tlsDeny({ Condition: { Bool: { "aws:SecureTransport": "true" } } }))).toEqual(refused);
    expect(await tlsViolations(tlsDeny({ Condition: { Bool: { "aws:SecureTransport": true } } }))).toEqual(refused);
  });
});
