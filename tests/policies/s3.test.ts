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
