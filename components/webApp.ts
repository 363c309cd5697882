/**
 * The chat UI on AWS: a private S3 bucket read only by CloudFront through origin access
 * control, HTTPS only, a response headers policy (CSP, HSTS and the rest), SPA routing, and
 * the files of web/dist (built at program time, like the Lambda bundles) uploaded one object
 * per file. `config.json` is written by `WebAppConfig` (below) once the user pool client and
 * the Events API exist: the client takes this app's URL as its callback URL, so the hosting
 * has to exist first.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { contentTypeOf } from "../web/content-types.js";
import { webFiles } from "../web/build.js";
import type { WebConfig } from "../web/src/config.js";
import { contentSecurityPolicy } from "../web/security-headers.js";

/** AWS managed cache policies (ids are global constants). */
const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";


export interface WebAppArgs {
  /** The built UI (web/dist, from web/build.ts ensureWebBuild). */
  distDir: string;
  /** `aws:region`: the CSP names the regional AppSync and Cognito hosts. */
  region: string;
  /** The hosted UI's domain prefix (`identity.domainPrefix`), allowed in the CSP. @default none */
  hostedUiDomainPrefix?: string;
  /** A custom domain: names CloudFront answers to, and their ACM certificate (us-east-1). @default the distribution's *.cloudfront.net name */
  customDomain?: { aliases: string[]; certificateArn: string };
  /** CloudFront price class. @default "PriceClass_100" */
  priceClass?: string;
}

/**
 * The CSP's connect-src. The AppSync hosts are named by pattern (`*.appsync-api.<region>`)
 * rather than by the API's own host: the API accepts only this stack's app client, whose
 * callback URL is this distribution, whose headers policy would then wait for the API: a cycle.
 */
export function webAppConnectSources(region: string, hostedUiDomainPrefix?: string): string[] {
  return [
    `https://*.appsync-api.${region}.amazonaws.com`,
    `wss://*.appsync-realtime-api.${region}.amazonaws.com`,
    `https://cognito-idp.${region}.amazonaws.com`,
    ...(hostedUiDomainPrefix ? [`https://${hostedUiDomainPrefix}.auth.${region}.amazoncognito.com`] : []),
  ];
}

export class WebApp extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly distribution: aws.cloudfront.Distribution;
  readonly headersPolicy: aws.cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution or custom domain>`: a stack output and a Cognito callback URL. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: WebAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:WebApp", name, {}, opts);
    const { priceClass } = { priceClass: "PriceClass_100", ...args };

    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: true }, { parent: this });
    const block = new aws.s3.BucketPublicAccessBlock(
      `${name}-block`,
      { bucket: this.bucket.bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      { bucket: this.bucket.bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: this.bucket.bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });

    const accessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      { description: "CloudFront reads the web app bucket", originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" },
      { parent: this },
    );

    this.headersPolicy = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-headers`,
      {
        comment: "Security headers of the chat UI",
        securityHeadersConfig: {
          contentSecurityPolicy: {
            contentSecurityPolicy: contentSecurityPolicy({ connect: webAppConnectSources(args.region, args.hostedUiDomainPrefix) }),
            override: true,
          },
          strictTransportSecurity: { accessControlMaxAgeSec: 63072000, includeSubdomains: true, preload: false, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: "DENY", override: true },
          referrerPolicy: { referrerPolicy: "no-referrer", override: true },
        },
        customHeadersConfig: {
          items: [
            { header: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()", override: true },
            { header: "Cross-Origin-Opener-Policy", value: "same-origin", override: true },
          ],
        },
      },
      { parent: this },
    );

    const originId = "web-bucket";
    const behaviour = { targetOriginId: originId, viewerProtocolPolicy: "redirect-to-https", allowedMethods: ["GET", "HEAD"], cachedMethods: ["GET", "HEAD"], compress: true, responseHeadersPolicyId: this.headersPolicy.id };
    this.distribution = new aws.cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: "AI gateway chat UI",
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass,
        origins: [{ originId, domainName: this.bucket.bucketRegionalDomainName, originAccessControlId: accessControl.id }],
        // index.html and config.json change with every deploy: never cached; hashed assets: for a year.
        defaultCacheBehavior: { ...behaviour, cachePolicyId: CACHING_DISABLED },
        orderedCacheBehaviors: [{ ...behaviour, pathPattern: "/assets/*", cachePolicyId: CACHING_OPTIMIZED }],
        // SPA routing: a deep link is the app; S3 answers 403 for a missing key when the reader may not list.
        customErrorResponses: [403, 404].map((code) => ({ errorCode: code, responseCode: 200, responsePagePath: "/index.html", errorCachingMinTtl: 0 })),
        restrictions: { geoRestriction: { restrictionType: "none" } },
        aliases: args.customDomain?.aliases,
        viewerCertificate: args.customDomain
          ? { acmCertificateArn: args.customDomain.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
          : { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1.2_2021" },
      },
      { parent: this },
    );

    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: this.bucket.bucket,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudFrontReads",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: ["s3:GetObject"],
              Resource: [pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
            },
            {
              Sid: "TlsOnly",
              Effect: "Deny",
              Principal: "*",
              Action: ["s3:*"],
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      // A public access block with blockPublicPolicy must exist first; this policy is not public.
      { parent: this, dependsOn: [block] },
    );

    for (const file of webFiles(args.distDir)) {
      new aws.s3.BucketObjectv2(
        `${name}-file-${file}`,
        {
          bucket: this.bucket.bucket,
          key: file,
          source: new pulumi.asset.FileAsset(join(args.distDir, file)),
          contentType: contentTypeOf(file),
          cacheControl: file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        },
        { parent: this },
      );
    }

    this.url = args.customDomain ? pulumi.output(`https://${args.customDomain.aliases[0]}`) : pulumi.interpolate`https://${this.distribution.domainName}`;
    this.registerOutputs({ url: this.url, bucket: this.bucket.bucket, distributionId: this.distribution.id });
  }
}

export interface WebAppConfigArgs {
  /** The WebApp whose bucket receives `config.json`. */
  app: WebApp;
  /** The page's config (web/src/config.ts), from the stack's outputs. */
  config: pulumi.Input<WebConfig>;
}

/** `config.json` beside the page, written once the user pool client and the Events API exist. */
export class WebAppConfig extends pulumi.ComponentResource {
  readonly object: aws.s3.BucketObjectv2;

  constructor(name: string, args: WebAppConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:WebAppConfig", name, {}, opts);
    this.object = new aws.s3.BucketObjectv2(
      `${name}-object`,
      {
        bucket: args.app.bucket.bucket,
        key: "config.json",
        content: pulumi.output(args.config).apply((config) => `${JSON.stringify(config, null, 2)}\n`),
        contentType: "application/json",
        cacheControl: "no-cache",
      },
      { parent: this },
    );
    this.registerOutputs({ key: this.object.key });
  }
}
