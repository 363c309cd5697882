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

describe("cloudfront policies, case by case", () => {
  const behaviour = () => cdn().defaultCacheBehavior;
  const headersPolicy = (config: Record<string, unknown>) =>
    withInputs("chat-ui-headers", { securityHeadersConfig: { ...compliantStack().find((r) => r.name === "chat-ui-headers")!.inputs.securityHeadersConfig, ...config } });

  it("checks behaviours only on distributions, and skips entries that are not behaviours", async () => {
    const plain = { ...behaviour(), viewerProtocolPolicy: "allow-all" };
    expect(await violations("cloudfront-https-only", withInputs("chat-ui-headers", { defaultCacheBehavior: plain }))).toEqual([]);
    expect(await violations("cloudfront-https-only", withInputs("chat-ui-cdn", { defaultCacheBehavior: "none", orderedCacheBehaviors: ["none"] }))).toEqual([]);
    expect(await violations("cloudfront-tls-minimum", withInputs("chat-ui-headers", { viewerCertificate: { minimumProtocolVersion: "TLSv1" } }))).toEqual([]);
    const origins = [{ originId: "web", domainName: "web-bucket.s3.us-east-1.amazonaws.com" }];
    expect(await violations("cloudfront-origin-access-control", withInputs("chat-ui-headers", { origins }))).toEqual([]);
  });

  it("accepts both HTTPS viewer policies and names an unset one", async () => {
    const https = { ...behaviour(), viewerProtocolPolicy: "https-only" };
    expect(await violations("cloudfront-https-only", withInputs("chat-ui-cdn", { defaultCacheBehavior: https }))).toEqual([]);
    const { viewerProtocolPolicy: _unset, ...unset } = behaviour();
    const unnamed = { ...behaviour(), viewerProtocolPolicy: "allow-all", pathPattern: undefined };
    expect(await violations("cloudfront-https-only", withInputs("chat-ui-cdn", { defaultCacheBehavior: unset, orderedCacheBehaviors: [unnamed] }))).toEqual([
      'the default behaviour allows plain HTTP (viewerProtocolPolicy null). To fix: set viewerProtocolPolicy to "redirect-to-https"',
      'behaviour ? allows plain HTTP (viewerProtocolPolicy "allow-all"). To fix: set viewerProtocolPolicy to "redirect-to-https"',
    ]);
  });

  it("accepts every TLS 1.2 and 1.3 policy, and names a missing one", async () => {
    for (const version of ["TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]) {
      expect(await violations("cloudfront-tls-minimum", withInputs("chat-ui-cdn", { viewerCertificate: { minimumProtocolVersion: version } }))).toEqual([]);
    }
    expect(await violations("cloudfront-tls-minimum", withInputs("chat-ui-cdn", { viewerCertificate: undefined }))).toEqual([
      'minimum viewer TLS version is null. To fix: set viewerCertificate.minimumProtocolVersion to "TLSv1.2_2021"',
    ]);
  });

  it("recognises S3 origins by their regional, dotted or legacy domain, or an s3OriginConfig", async () => {
    const refused = async (origin: Record<string, unknown>) => (await violations("cloudfront-origin-access-control", withInputs("chat-ui-cdn", { origins: [{ originId: "o", ...origin }] }))).length;
    expect(await refused({ domainName: "b.s3.amazonaws.com" })).toBe(1);
    expect(await refused({ domainName: "b.s3-eu-west-1.amazonaws.com" })).toBe(1);
    expect(await refused({ domainName: "b.s3.amazonaws.com.evil.example" })).toBe(0);
    expect(await refused({ domainName: "api.example.com", s3OriginConfig: {} })).toBe(1);
    expect(await refused({ domainName: 42 })).toBe(0);
  });

  it("wants HSTS of at least a year, and names nosniff and frame options when missing", async () => {
    expect(await violations("cloudfront-security-headers", headersPolicy({ strictTransportSecurity: { accessControlMaxAgeSec: 31_536_000 } }))).toEqual([]);
    expect(await violations("cloudfront-security-headers", headersPolicy({ strictTransportSecurity: { accessControlMaxAgeSec: 31_535_999 } }))).toHaveLength(1);
    expect(await violations("cloudfront-security-headers", headersPolicy({ contentTypeOptions: undefined, frameOptions: true }))).toEqual([
      "headers policy lacks X-Content-Type-Options, X-Frame-Options. To fix: add them to securityHeadersConfig",
    ]);
    expect(await violations("cloudfront-security-headers", headersPolicy({ contentSecurityPolicy: { contentSecurityPolicy: "script-src 'self'" } }))).toEqual([
      "headers policy lacks a Content-Security-Policy with default-src. To fix: add them to securityHeadersConfig",
    ]);
  });
});
