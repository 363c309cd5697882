/**
 * CloudFront (the web app's distribution): viewers only over HTTPS with TLS 1.2 or later, S3
 * origins read through origin access control (the bucket stays private), and security
 * headers on every response.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, isRecord, withRemedy } from "../support/values";

const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy";
const HTTPS_POLICIES = ["redirect-to-https", "https-only"];
const TLS_VERSIONS = ["TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"];
const ONE_YEAR = 31_536_000;

/** The default behaviour and every ordered one, each with a label for messages. */
function behaviours(props: Record<string, any>): { label: string; behaviour: Record<string, any> }[] {
  const found: { label: string; behaviour: Record<string, any> }[] = [];
  if (isRecord(props.defaultCacheBehavior)) found.push({ label: "the default behaviour", behaviour: props.defaultCacheBehavior });
  for (const ordered of asArray(props.orderedCacheBehaviors as unknown)) {
    if (isRecord(ordered)) found.push({ label: `behaviour ${ordered.pathPattern ?? "?"}`, behaviour: ordered });
  }
  return found;
}

export const cloudfrontHttpsOnly: ResourceValidationPolicy = {
  name: "cloudfront-https-only",
  description: "CloudFront distributions serve viewers over HTTPS only (plain HTTP is redirected).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Set viewerProtocolPolicy to "redirect-to-https" (or "https-only") on the default and every ordered cache behaviour.',
  validateResource: (args, reportViolation) => {
    if (args.type !== DISTRIBUTION) return;
    for (const { label, behaviour } of behaviours(args.props)) {
      if (!HTTPS_POLICIES.includes(behaviour.viewerProtocolPolicy)) {
        reportViolation(withRemedy(`${label} allows plain HTTP (viewerProtocolPolicy ${JSON.stringify(behaviour.viewerProtocolPolicy ?? null)})`, 'set viewerProtocolPolicy to "redirect-to-https"'));
      }
    }
  },
};

export const cloudfrontTlsMinimum: ResourceValidationPolicy = {
  name: "cloudfront-tls-minimum",
  description: "CloudFront distributions declare TLS 1.2 or later as the viewers' minimum protocol.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: 'Set viewerCertificate.minimumProtocolVersion to "TLSv1.2_2021" (a custom certificate enforces it; the default *.cloudfront.net certificate keeps CloudFront\'s own floor).',
  validateResource: (args, reportViolation) => {
    if (args.type !== DISTRIBUTION) return;
    const version = isRecord(args.props.viewerCertificate) ? args.props.viewerCertificate.minimumProtocolVersion : undefined;
    if (!TLS_VERSIONS.includes(version)) {
      reportViolation(withRemedy(`minimum viewer TLS version is ${JSON.stringify(version ?? null)}`, 'set viewerCertificate.minimumProtocolVersion to "TLSv1.2_2021"'));
    }
  },
};

function isS3Origin(origin: Record<string, any>): boolean {
  return typeof origin.domainName === "string" && /\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/.test(origin.domainName) || isRecord(origin.s3OriginConfig);
}

export const cloudfrontOriginAccessControl: ResourceValidationPolicy = {
  name: "cloudfront-origin-access-control",
  description: "CloudFront reads S3 origins through origin access control, never a public bucket or a legacy origin access identity.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Create an aws.cloudfront.OriginAccessControl (type s3, signing always, sigv4), set originAccessControlId on the origin, drop s3OriginConfig, and grant s3:GetObject to cloudfront.amazonaws.com conditioned on the distribution's ARN.",
  validateResource: (args, reportViolation) => {
    if (args.type !== DISTRIBUTION) return;
    for (const origin of asArray(args.props.origins as unknown)) {
      if (!isRecord(origin) || !isS3Origin(origin)) continue;
      const identity = isRecord(origin.s3OriginConfig) ? origin.s3OriginConfig.originAccessIdentity : undefined;
      if (!origin.originAccessControlId || identity) {
        reportViolation(
          withRemedy(`S3 origin ${origin.originId ?? origin.domainName} is read ${identity ? "through a legacy origin access identity" : "without origin access control"}`, "set originAccessControlId to an OriginAccessControl"),
        );
      }
    }
  },
};

/** What a headers policy lacks among CSP, HSTS of a year or more, nosniff and frame options. */
function missingHeaders(props: Record<string, any>): string[] {
  const config = isRecord(props.securityHeadersConfig) ? props.securityHeadersConfig : {};
  const missing: string[] = [];
  const csp = isRecord(config.contentSecurityPolicy) ? config.contentSecurityPolicy.contentSecurityPolicy : undefined;
  if (typeof csp !== "string" || !csp.includes("default-src")) missing.push("a Content-Security-Policy with default-src");
  const hsts = config.strictTransportSecurity;
  if (!isRecord(hsts) || !(Number(hsts.accessControlMaxAgeSec) >= ONE_YEAR)) missing.push("Strict-Transport-Security of at least a year");
  if (!isRecord(config.contentTypeOptions)) missing.push("X-Content-Type-Options");
  if (!isRecord(config.frameOptions)) missing.push("X-Frame-Options");
  return missing;
}

/**
 * Checked per resource, not by following the behaviour's policy id to the policy: ids are
 * unknown until a resource exists, so a stack check could not run on a first preview. Every
 * behaviour must attach a policy, and every headers policy in the stack must be complete
 * (AWS's managed SecurityHeadersPolicy is complete by definition).
 */
export const cloudfrontSecurityHeaders: ResourceValidationPolicy = {
  name: "cloudfront-security-headers",
  description: "Every CloudFront cache behaviour attaches a response headers policy, and every headers policy sets CSP, HSTS, X-Content-Type-Options and X-Frame-Options.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Create an aws.cloudfront.ResponseHeadersPolicy with securityHeadersConfig (contentSecurityPolicy, strictTransportSecurity >= 31536000 s, contentTypeOptions, frameOptions) and set responseHeadersPolicyId on every behaviour.",
  validateResource: (args, reportViolation) => {
    if (args.type === DISTRIBUTION) {
      for (const { label, behaviour } of behaviours(args.props)) {
        if (!behaviour.responseHeadersPolicyId) reportViolation(withRemedy(`${label} has no security headers policy`, "set responseHeadersPolicyId"));
      }
    } else if (args.type === HEADERS_POLICY) {
      const missing = missingHeaders(args.props);
      if (missing.length) reportViolation(withRemedy(`headers policy lacks ${missing.join(", ")}`, "add them to securityHeadersConfig"));
    }
  },
};

export const cloudfrontPolicies = [cloudfrontHttpsOnly, cloudfrontTlsMinimum, cloudfrontOriginAccessControl, cloudfrontSecurityHeaders];
