import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archiveFileText, archiveIsReadable, asArray, assetText, parseJsonValue, refersTo, withRemedy } from "../../policies/support/values.js";

const dir = mkdtempSync(join(tmpdir(), "policy-values-"));
writeFileSync(join(dir, "index.mjs"), "export const handler = 1;");
const emptyDir = join(dir, "empty");
mkdirSync(emptyDir);

describe("reading resource properties as the policy engine hands them over", () => {
  it("treats a missing value as no items and one value as a list of one", () => {
    expect(asArray(undefined)).toEqual([]);
    expect(asArray(null)).toEqual([]);
    expect(asArray("s3:GetObject")).toEqual(["s3:GetObject"]);
    expect(asArray(["a", "b"])).toEqual(["a", "b"]);
    expect(asArray(0)).toEqual([0]);
    expect(asArray("")).toEqual([""]);
  });

  it("parses JSON text, passes other values through, and makes unreadable text undefined", () => {
    expect(parseJsonValue('{"Version":"2012-10-17"}')).toEqual({ Version: "2012-10-17" });
    const doc = { Statement: [] };
    expect(parseJsonValue(doc)).toBe(doc);
    expect(parseJsonValue("{not json")).toBeUndefined();
  });

  it("matches a reference to a resource by its id, name or ARN, also with a Lambda qualifier", () => {
    const fn = { name: "worker", props: { name: "gw-worker", arn: "arn:aws:lambda:us-east-1:1:function:gw-worker", id: "" } };
    expect(refersTo("gw-worker", fn)).toBe(true);
    expect(refersTo("arn:aws:lambda:us-east-1:1:function:gw-worker:live", fn)).toBe(true);
    expect(refersTo("arn:aws:lambda:us-east-1:1:function:gw-worker-2", fn)).toBe(false);
    expect(refersTo("live:arn:aws:lambda:us-east-1:1:function:gw-worker", fn)).toBe(false);
    // An empty reference or property never matches, not even another empty one.
    expect(refersTo("", fn)).toBe(false);
    expect(refersTo(":x", { name: "t", props: { id: "" } })).toBe(false);
    expect(refersTo(42, { name: "t", props: { id: 42 } })).toBe(false);
    // Only string properties are references: a number id never prefixes a qualified reference.
    expect(refersTo("42:live", { name: "t", props: { id: 42 } })).toBe(false);
  });

  it("matches a reference by whichever identifier the target carries: id, function name, qualified or invoke ARN", () => {
    const qualified = "arn:aws:lambda:us-east-1:1:function:gw-worker:7";
    const invoke = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:gw-worker/invocations";
    expect(refersTo("E2QWRUHAPOMQZL", { name: "cdn", props: { id: "E2QWRUHAPOMQZL" } })).toBe(true);
    expect(refersTo("gw-worker", { name: "alias", props: { functionName: "gw-worker" } })).toBe(true);
    expect(refersTo(qualified, { name: "worker", props: { qualifiedArn: qualified } })).toBe(true);
    expect(refersTo(invoke, { name: "worker", props: { invokeArn: invoke } })).toBe(true);
  });

  it("never matches an absent or non-text reference, such as a data source without a Lambda config", () => {
    const fn = { name: "worker", props: { name: "gw-worker" } };
    expect(refersTo(undefined, fn)).toBe(false);
    expect(refersTo(42, fn)).toBe(false);
  });

  it("reads an asset's text from its string, its promise, or its file, and nothing else", async () => {
    expect(await assetText({ text: "inline" })).toBe("inline");
    expect(await assetText({ text: Promise.resolve("later") })).toBe("later");
    expect(await assetText({ path: join(dir, "index.mjs") })).toBe("export const handler = 1;");
    expect(await assetText({ path: Promise.resolve(join(dir, "index.mjs")) })).toBe("export const handler = 1;");
    expect(await assetText({ path: join(dir, "missing.mjs") })).toBeUndefined();
    expect(await assetText({ hash: "abc" })).toBeUndefined();
    expect(await assetText("index.mjs")).toBeUndefined();
  });

  it("reads one file of an asset archive or of a directory archive", async () => {
    expect(await archiveFileText({ assets: { "index.mjs": { text: "code" } } }, "index.mjs")).toBe("code");
    expect(await archiveFileText({ assets: Promise.resolve({ "index.mjs": { text: "code" } }) }, "index.mjs")).toBe("code");
    expect(await archiveFileText({ assets: { "other.mjs": { text: "code" } } }, "index.mjs")).toBeUndefined();
    expect(await archiveFileText({ path: dir }, "index.mjs")).toBe("export const handler = 1;");
    expect(await archiveFileText({ path: dir }, "missing.mjs")).toBeUndefined();
    expect(await archiveFileText({ uri: "s3://bucket/code.zip" }, "index.mjs")).toBeUndefined();
    expect(await archiveFileText(undefined, "index.mjs")).toBeUndefined();
  });

  it("tells whether any file of an archive can be read here", async () => {
    expect(await archiveIsReadable({ assets: { "a.mjs": { hash: "x" }, "b.mjs": { text: "b" } } })).toBe(true);
    expect(await archiveIsReadable({ assets: { "a.mjs": { hash: "x" } } })).toBe(false);
    expect(await archiveIsReadable({ path: dir })).toBe(true);
    expect(await archiveIsReadable({ path: emptyDir })).toBe(false);
    expect(await archiveIsReadable({ path: join(dir, "no-such-dir") })).toBe(false);
    expect(await archiveIsReadable({ path: 42 })).toBe(false);
    expect(await archiveIsReadable("code.zip")).toBe(false);
    expect(await archiveIsReadable(null)).toBe(false);
  });

  it("says in every violation what to change", () => {
    expect(withRemedy("the bucket is public", "block public access")).toBe("the bucket is public. To fix: block public access");
  });
});
