/**
 * The stack's `aws:*` config as arguments of the program's explicit AWS provider.
 *
 * An explicit provider reads no stack config of its own: without this, an operator's
 * `aws:profile`, `aws:assumeRoles` or `aws:allowedAccountIds` would be silently ignored and a
 * deploy could run with the wrong credentials, in the wrong account. So every `aws:` key is
 * passed on, and a key that cannot be (a typo, a setting this provider version lacks) stops
 * the preview instead of being dropped.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError } from "../../functions/lib/config/parse.js";

const NAMESPACE = "aws";

const text = z.string().min(1);
const texts = z.array(text);
const accountIds = z.array(z.string({ error: "expected a quoted 12-digit account id" }).regex(/^\d{12}$/, "expected a 12-digit account id"));
const tagMap = z.record(z.string(), z.string());

/** Settings given as plain strings: taken verbatim (a profile named `123` stays a string). */
const textSettings = {
  accessKey: text,
  customCaBundle: text,
  ec2MetadataServiceEndpoint: text,
  ec2MetadataServiceEndpointMode: text,
  httpProxy: text,
  httpsProxy: text,
  noProxy: text,
  profile: text,
  region: text,
  retryMode: text,
  s3UsEast1RegionalEndpoint: text,
  secretKey: text,
  stsRegion: text,
  tagPolicyCompliance: text,
  token: text,
};

/** Settings Pulumi hands over JSON-encoded (YAML lists, maps, booleans and numbers). */
const structuredSettings = {
  allowedAccountIds: accountIds,
  forbiddenAccountIds: accountIds,
  assumeRoles: z.array(
    z.strictObject({
      roleArn: text.optional(),
      sessionName: text.optional(),
      externalId: text.optional(),
      duration: text.optional(),
      policy: text.optional(),
      policyArns: texts.optional(),
      sourceIdentity: text.optional(),
      tags: tagMap.optional(),
      transitiveTagKeys: texts.optional(),
    }),
  ),
  assumeRoleWithWebIdentity: z.strictObject({
    roleArn: text.optional(),
    sessionName: text.optional(),
    duration: text.optional(),
    policy: text.optional(),
    policyArns: texts.optional(),
    webIdentityToken: text.optional(),
    webIdentityTokenFile: text.optional(),
  }),
  defaultTags: z.strictObject({ tags: tagMap.optional() }),
  // Hundreds of service names: the provider checks them; here only their shape.
  endpoints: z.array(z.record(z.string(), z.string())),
  ignoreTags: z.strictObject({ keys: texts.optional(), keyPrefixes: texts.optional() }),
  insecure: z.boolean(),
  maxRetries: z.number().int().min(0),
  s3UsePathStyle: z.boolean(),
  sharedConfigFiles: texts,
  sharedCredentialsFiles: texts,
  skipCredentialsValidation: z.boolean(),
  skipMetadataApiCheck: z.boolean(),
  skipRegionValidation: z.boolean(),
  skipRequestingAccountId: z.boolean(),
  tokenBucketRateLimiterCapacity: z.number().int().positive(),
  useDualstackEndpoint: z.boolean(),
  useFipsEndpoint: z.boolean(),
  userAgents: texts,
};

// Compile-time checks against @pulumi/aws: every ProviderArgs key has a schema, and no schema
// names a key ProviderArgs lacks. A provider upgrade that adds a setting fails `tsc` here.
const settings = { ...textSettings, ...structuredSettings } satisfies { [K in keyof Required<aws.ProviderArgs>]: z.ZodType };
type Setting = keyof typeof settings;
({}) satisfies Record<Exclude<Setting, keyof aws.ProviderArgs>, never>;
const isSetting = (name: string): name is Setting => Object.hasOwn(settings, name);
const isText = (name: Setting) => Object.hasOwn(textSettings, name);

/**
 * Provider arguments from the stack's whole config map (`pulumi.runtime.allConfig()`).
 * `gatewayTags` join any `aws:defaultTags` the operator set; an operator tag may not redefine
 * one of them. Throws a ConfigError naming every bad `aws:` key; keys of other namespaces are
 * ignored.
 */
export function awsProviderArgs(all: Record<string, string>, gatewayTags: Record<string, string>): aws.ProviderArgs & { region: string } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(all)) {
    if (!key.startsWith(`${NAMESPACE}:`)) continue;
    const name = key.slice(NAMESPACE.length + 1);
    if (!isSetting(name)) {
      problems.push(`${key}: unknown key (not a setting of the AWS provider this program passes config to)`);
      continue;
    }
    const parsed = settings[name].safeParse(isText(name) ? raw : parseJson(raw));
    if (parsed.success) values[name] = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => `${[key, ...issue.path.map(String)].join(".")}: ${issue.message}`));
  }

  if (values.region === undefined && !problems.some((p) => p.startsWith(`${NAMESPACE}:region`))) {
    problems.push(`${NAMESPACE}:region: required (pulumi config set aws:region us-east-1)`);
  }
  if (values.allowedAccountIds && values.forbiddenAccountIds) {
    problems.push(`${NAMESPACE}:forbiddenAccountIds: set either aws:allowedAccountIds or aws:forbiddenAccountIds, not both`);
  }
  const operatorTags = (values.defaultTags as { tags?: Record<string, string> } | undefined)?.tags ?? {};
  for (const tag of Object.keys(gatewayTags)) {
    if (tag in operatorTags) problems.push(`${NAMESPACE}:defaultTags.tags.${tag}: reserved; the program sets this tag itself`);
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    ...values,
    // The web-identity token is a credential; the provider itself guards only accessKey,
    // secretKey and token.
    ...(values.assumeRoleWithWebIdentity ? { assumeRoleWithWebIdentity: pulumi.secret(values.assumeRoleWithWebIdentity as aws.types.input.ProviderAssumeRoleWithWebIdentity) } : {}),
    defaultTags: { tags: { ...operatorTags, ...gatewayTags } },
    region: values.region as string,
  };
}

/** Structured values arrive JSON-encoded; anything else stays the string it was. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
