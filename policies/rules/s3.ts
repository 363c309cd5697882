/**
 * S3 (the analytics bucket and the web bucket): never public, encrypted, reachable over TLS
 * only. These settings live in companion resources, so the checks are stack-wide.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { statementsOf } from "../support/iam-documents";
import { ofType, referencing, TYPES, type StackResource } from "../support/stack-graph";
import { asArray, isRecord, withRemedy } from "../support/values";

const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ENCRYPTION = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

function buckets(resources: readonly StackResource[]): StackResource[] {
  return ofType(resources, TYPES.bucket, TYPES.bucketV2);
}

export const s3PublicAccessBlocked: StackValidationPolicy = {
  name: "s3-public-access-blocked",
  description: "Every S3 bucket has a public access block with all four settings on.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Add an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true; serve web assets through CloudFront with origin access control.",
  validateStack: (args, reportViolation) => {
    for (const bucket of buckets(args.resources)) {
      const blocks = referencing(args.resources, PUBLIC_ACCESS_BLOCK, "bucket", bucket);
      const complete = blocks.some((b) => BLOCK_FLAGS.every((flag) => b.props[flag] === true));
      if (!complete) {
        const missing = blocks.length ? BLOCK_FLAGS.filter((f) => !blocks.some((b) => b.props[f] === true)).join(", ") : "all settings";
        reportViolation(withRemedy(`bucket ${bucket.name} does not block public access (${missing})`, "add a BucketPublicAccessBlock with all four settings true"), bucket.urn);
      }
    }
  },
};

function ruleEncrypts(rule: unknown): boolean {
  const byDefault = isRecord(rule) ? rule.applyServerSideEncryptionByDefault : undefined;
  return isRecord(byDefault) && SSE_ALGORITHMS.includes(byDefault.sseAlgorithm);
}

export const s3Encryption: StackValidationPolicy = {
  name: "s3-encryption",
  description: "Every S3 bucket declares default server-side encryption.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Add an aws.s3.BucketServerSideEncryptionConfiguration with applyServerSideEncryptionByDefault (AES256 or aws:kms).",
  validateStack: (args, reportViolation) => {
    for (const bucket of buckets(args.resources)) {
      const inline = isRecord(bucket.props.serverSideEncryptionConfiguration) ? bucket.props.serverSideEncryptionConfiguration.rule : undefined;
      const configs = ENCRYPTION.flatMap((type) => referencing(args.resources, type, "bucket", bucket));
      const encrypted = asArray(inline as unknown).some(ruleEncrypts) || configs.some((c) => asArray(c.props.rules as unknown).some(ruleEncrypts));
      if (!encrypted) {
        reportViolation(withRemedy(`bucket ${bucket.name} declares no default encryption`, "add a BucketServerSideEncryptionConfiguration"), bucket.urn);
      }
    }
  },
};

/** `Bool: { "aws:SecureTransport": "false" }`, as string, boolean or list. */
function deniesPlainHttp(condition: Record<string, any>): boolean {
  const bool = condition.Bool;
  if (!isRecord(bool)) return false;
  return asArray(bool["aws:SecureTransport"] as unknown).some((v) => v === false || v === "false");
}

export const s3TlsOnly: StackValidationPolicy = {
  name: "s3-tls-only",
  description: "Every S3 bucket's policy denies requests that do not use TLS.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Attach a BucketPolicy with { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucket ARN, bucket ARN + "/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }.',
  validateStack: (args, reportViolation) => {
    for (const bucket of buckets(args.resources)) {
      const policies = referencing(args.resources, BUCKET_POLICY, "bucket", bucket);
      const tlsOnly = policies.some((p) =>
        statementsOf(p.props.policy).some(
          (s) => s.effect === "Deny" && s.actions.some((a) => a === "*" || a.toLowerCase() === "s3:*") && deniesPlainHttp(s.condition),
        ),
      );
      if (!tlsOnly) {
        reportViolation(withRemedy(`bucket ${bucket.name} accepts plain-HTTP requests`, 'add a bucket policy statement denying s3:* when aws:SecureTransport is "false"'), bucket.urn);
      }
    }
  },
};

export const s3Policies = [s3PublicAccessBlocked, s3Encryption, s3TlsOnly];
