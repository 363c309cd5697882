import { describe, expect, it } from "vitest";
import { changed, compliantStack, violations, withInputs } from "./fixtures.js";

const cdn = () => compliantStack().find((r) => r.name === "chat-ui-cdn")!.inputs;

describe("cloudfront-https-only", () => {
  it("passes a distribution that redirects HTTP to HTTPS on every behaviour", async () => {
    expect(await violations("cloudfront-https-only", compliantStack())).toEqual([]);
  });

  it("names the behaviour that allows plain HTTP", async () => {
    const ordered = [{ ...cdn().orderedCacheBehaviors[0], viewerProtocolPolicy: "allow-all" }];
    expect(await violations("cloudfront-https-only", withInputs("chat-ui-cdn", { orderedCacheBehaviors: ordered }))).toEqual([
      expect.stringContaining('behaviour /assets/* allows plain HTTP (viewerProtocolPolicy "allow-all")'),
    ]);
  });
});

describe("cloudfront-tls-minimum", () => {
  it("refuses a TLS 1.0 or 1.1 minimum", async () => {
    expect(await violations("cloudfront-tls-minimum", withInputs("chat-ui-cdn", { viewerCertificate: { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1" } }))).toEqual([
      expect.stringContaining('minimum viewer TLS version is "TLSv1"'),
    ]);
    expect(await violations("cloudfront-tls-minimum", withInputs("chat-ui-cdn", { viewerCertificate: { minimumProtocolVersion: "TLSv1.1_2016" } }))).toHaveLength(1);
  });

  it("accepts TLS 1.2 and later", async () => {
    expect(await violations("cloudfront-tls-minimum", compliantStack())).toEqual([]);
    expect(await violations("cloudfront-tls-minimum", withInputs("chat-ui-cdn", { viewerCertificate: { minimumProtocolVersion: "TLSv1.3_2025" } }))).toEqual([]);
  });
});

describe("cloudfront-origin-access-control", () => {
  it("refuses an S3 origin without origin access control", async () => {
    const origins = [{ originId: "web", domainName: "web-bucket.s3.us-east-1.amazonaws.com" }];
    expect(await violations("cloudfront-origin-access-control", withInputs("chat-ui-cdn", { origins }))).toEqual([
      expect.stringContaining("S3 origin web is read without origin access control"),
    ]);
  });

  it("refuses a legacy origin access identity", async () => {
    const origins = [{ originId: "web", domainName: "web-bucket.s3.amazonaws.com", s3OriginConfig: { originAccessIdentity: "origin-access-identity/cloudfront/E1" } }];
    expect(await violations("cloudfront-origin-access-control", withInputs("chat-ui-cdn", { origins }))).toEqual([expect.stringContaining("through a legacy origin access identity")]);
  });

  it("leaves custom (non-S3) origins alone", async () => {
    const origins = [{ originId: "api", domainName: "api.example.com", customOriginConfig: { originProtocolPolicy: "https-only" } }];
    expect(await violations("cloudfront-origin-access-control", withInputs("chat-ui-cdn", { origins }))).toEqual([]);
  });
});

describe("cloudfront-security-headers", () => {
  it("passes behaviours that attach a complete headers policy", async () => {
    expect(await violations("cloudfront-security-headers", compliantStack())).toEqual([]);
  });

  it("refuses a behaviour without a headers policy", async () => {
    const { responseHeadersPolicyId: _dropped, ...bare } = cdn().defaultCacheBehavior;
    expect(await violations("cloudfront-security-headers", withInputs("chat-ui-cdn", { defaultCacheBehavior: bare }))).toEqual([
      expect.stringContaining("the default behaviour has no security headers policy"),
    ]);
  });

  it("names what a headers policy lacks", async () => {
    const weak = { securityHeadersConfig: { strictTransportSecurity: { accessControlMaxAgeSec: 300 }, contentTypeOptions: { override: true } } };
    expect(await violations("cloudfront-security-headers", withInputs("chat-ui-headers", weak))).toEqual([
      expect.stringContaining("headers policy lacks a Content-Security-Policy with default-src, Strict-Transport-Security of at least a year, X-Frame-Options"),
    ]);
  });

  it("accepts AWS's managed SecurityHeadersPolicy", async () => {
    const managed = { ...cdn().defaultCacheBehavior, responseHeadersPolicyId: "67f7725c-6f97-4210-82d7-5512b31e9d03" };
    const stack = withInputs("chat-ui-cdn", { defaultCacheBehavior: managed, orderedCacheBehaviors: [] }, changed("chat-ui-headers", () => undefined));
    expect(await violations("cloudfront-security-headers", stack)).toEqual([]);
  });
});
