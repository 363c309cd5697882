/**
 * The WebApp component in the dev stack, under Pulumi mocks: private bucket behind CloudFront
 * with origin access control, HTTPS only, security headers, SPA routing, every built file
 * uploaded, config.json from the stack's outputs, and its URL a Cognito callback.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runMockedStack, type MockedStack } from "../../tools/mocked-stack.js";
import { WEB_DIST, webFiles } from "../../web/build.js";
import type { WebConfig } from "../../web/src/config.js";
import { one, ofType, statementsOf, T } from "./stackQueries.js";

let stack: MockedStack;
beforeAll(async () => {
  stack = await runMockedStack({ stack: "dev" });
});
const resources = () => stack.resources;
const distribution = () => one(resources(), "aws:cloudfront/distribution:Distribution");
const bucket = () => one(resources(), "aws:s3/bucket:Bucket", "web-bucket");
/** The mocks give a resource the id `<physical name>-id` (tools/awsMocks.ts). */
const idOf = (r: { state: Record<string, any> }) => `${r.state.name}-id`;
const objects = () => ofType(resources(), "aws:s3/bucketObjectv2:BucketObjectv2");

describe("WebApp: hosting", () => {
  it("keeps the bucket private: all public access blocked, encrypted, owner-enforced", () => {
    const name = bucket().state.bucket;
    const block = one(resources(), "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "web-block").inputs;
    expect(block).toMatchObject({ bucket: name, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(one(resources(), "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "web-sse").inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
    expect(one(resources(), "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "web-ownership").inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
  });

  it("lets only this distribution read objects, and denies plain HTTP", () => {
    const [read, tls] = statementsOf(one(resources(), "aws:s3/bucketPolicy:BucketPolicy", "web-policy").inputs.policy);
    expect(read).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: ["s3:GetObject"],
      Resource: [`${bucket().state.arn}/*`],
      Condition: { StringEquals: { "AWS:SourceArn": distribution().state.arn } },
    });
    expect(tls).toMatchObject({ Effect: "Deny", Principal: "*", Action: ["s3:*"], Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  it("serves through CloudFront with origin access control, HTTPS only, TLS 1.2+ and SPA routing", () => {
    const cdn = distribution().inputs;
    const oac = one(resources(), "aws:cloudfront/originAccessControl:OriginAccessControl");
    expect(oac.inputs).toMatchObject({ originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" });
    expect(cdn.origins).toEqual([expect.objectContaining({ domainName: bucket().state.bucketRegionalDomainName, originAccessControlId: idOf(oac) })]);
    expect(cdn.origins[0].s3OriginConfig).toBeUndefined();
    for (const behaviour of [cdn.defaultCacheBehavior, ...cdn.orderedCacheBehaviors]) expect(behaviour.viewerProtocolPolicy).toBe("redirect-to-https");
    expect(cdn.viewerCertificate.minimumProtocolVersion).toBe("TLSv1.2_2021");
    expect(cdn.defaultRootObject).toBe("index.html");
    expect(cdn.customErrorResponses).toEqual([403, 404].map((errorCode) => expect.objectContaining({ errorCode, responseCode: 200, responsePagePath: "/index.html" })));
  });

  it("sends security headers whose CSP allows the region's AppSync Events and Cognito endpoints only", () => {
    const policy = one(resources(), "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy");
    const cdn = distribution().inputs;
    for (const behaviour of [cdn.defaultCacheBehavior, ...cdn.orderedCacheBehaviors]) expect(behaviour.responseHeadersPolicyId).toBe(idOf(policy));
    const headers = policy.inputs.securityHeadersConfig;
    const csp: string = headers.contentSecurityPolicy.contentSecurityPolicy;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp.split("; ").find((d) => d.startsWith("connect-src"))).toBe(
      "connect-src 'self' https://*.appsync-api.us-east-1.amazonaws.com https://cognito-idp.us-east-1.amazonaws.com wss://*.appsync-realtime-api.us-east-1.amazonaws.com",
    );
    expect(headers.strictTransportSecurity.accessControlMaxAgeSec).toBeGreaterThanOrEqual(31536000);
    expect(headers.frameOptions.frameOption).toBe("DENY");
    expect(headers.contentTypeOptions.override).toBe(true);
  });
});

describe("WebApp: content", () => {
  it("uploads every built file with its content type, hashed assets cached for a year", () => {
    const uploaded = objects().filter((o) => o.inputs.key !== "config.json");
    expect(uploaded.map((o) => o.inputs.key).sort()).toEqual(webFiles(WEB_DIST));
    expect(uploaded.map((o) => o.inputs.key)).toContain("index.html");
    const index = uploaded.find((o) => o.inputs.key === "index.html")!.inputs;
    expect(index).toMatchObject({ contentType: "text/html; charset=utf-8", cacheControl: "no-cache", bucket: bucket().state.bucket });
    const script = uploaded.find((o) => /^assets\/.*\.js$/.test(o.inputs.key))!.inputs;
    expect(script).toMatchObject({ contentType: "text/javascript; charset=utf-8", cacheControl: "public, max-age=31536000, immutable" });
  });

  it("writes config.json from the stack's outputs: Events endpoints, user pool, client, SRP sign-in", () => {
    const config = JSON.parse(objects().find((o) => o.inputs.key === "config.json")!.inputs.content) as WebConfig;
    expect(config).toEqual({
      region: "us-east-1",
      appName: "AI Gateway (dev)",
      events: { httpEndpoint: stack.outputs.eventsHttpEndpoint, realtimeEndpoint: stack.outputs.eventsRealtimeEndpoint },
      cognito: { userPoolId: stack.outputs.userPoolId, userPoolClientId: stack.outputs.userPoolClientId, authFlow: "USER_SRP_AUTH", mfa: "OPTIONAL" },
    });
  });

  it("exports its URL and makes it a callback and sign-out URL of the app client", () => {
    expect(stack.outputs.webUrl).toBe(`https://${distribution().state.domainName}`);
    const client = one(resources(), T.client).inputs;
    expect(client).toMatchObject({
      allowedOauthFlows: ["code"],
      callbackUrls: [`${stack.outputs.webUrl}/`],
      logoutUrls: [`${stack.outputs.webUrl}/`],
    });
  });
});
