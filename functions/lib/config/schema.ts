/**
 * The stack-config schema: every `ai-gateway:*` key, its default and its rules.
 *
 * One schema serves both sides: index.ts validates the stack's config before any resource
 * exists (so `pulumi preview` fails naming the key), and the functions validate the JSON file
 * bundled into their code archive at cold start. The README's configuration reference follows
 * this file.
 */
import * as z from "zod";
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN } from "./metrics-namespace.js";

/** AppSync Events publishes at most 240 KB per event; leave room for the envelope. */
export const MAX_INPUT_CHARS_CEILING = 60_000;

/** CloudWatch Logs accepts only these retention values. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** A Bedrock foundation-model id or a cross-region inference-profile id. */
const modelIdPattern = /^(?:(?:us|eu|apac|jp|au|ca|global|us-gov)\.)?[a-z0-9-]+\.[A-Za-z0-9.:_-]+$/;

// --- Observability and analytics -------------------------------------------------------------

/** A model's on-demand price in USD per million tokens, as on the Bedrock pricing page. */
export const modelPricingSchema = z
  .object({
    inputPerMillionTokens: z.number().nonnegative().max(10_000),
    outputPerMillionTokens: z.number().nonnegative().max(10_000),
  })
  .strict();

/** S3 lifecycle (days) accepted for analytics records: at least a day, at most ten years. */
export const ANALYTICS_RETENTION_DAYS_MAX = 3650;

const analyticsSchema = z
  .object({
    /** One analytics record per chat turn (Firehose -> S3 Parquet -> Glue -> Athena). @default true */
    enabled: z.boolean().default(true),
    /** Days the Parquet records are kept in S3 before the lifecycle deletes them. @default 365 */
    retentionDays: positiveInt.max(ANALYTICS_RETENTION_DAYS_MAX).default(365),
  })
  .strict()
  .default({ enabled: true, retentionDays: 365 });

// ---------------------------------------------------------------------------------------------

export const modelSchema = z
  .object({
    /** Bedrock model id or inference-profile id, e.g. `us.amazon.nova-lite-v1:0`. */
    id: z.string().regex(modelIdPattern, "must be a Bedrock model or inference-profile id"),
    /** Display name shown to users. */
    name: z.string().min(1).max(100),
    /** The model's maker, e.g. `Anthropic`. */
    provider: z.string().min(1).max(50),
    /** The most output tokens the model produces in one answer. @default 4096 */
    maxOutputTokens: positiveInt.max(200_000).default(4096),
    /** The model used when a request names none. At most one model sets it. @default false */
    default: z.boolean().default(false),
    /** USD prices for cost estimates (analytics); no cost is reported for a model without them. */
    pricing: modelPricingSchema.optional(),
    /**
     * The model's context window in tokens: stored history that would not fit beside the system
     * prompt, the message and the answer is left out, oldest first. @default 32000
     */
    contextTokens: positiveInt.min(1000).max(10_000_000).optional(),
  })
  .strict();

const tokenLimitsSchema = z
  .object({ inputTokens: nonNegativeInt, outputTokens: nonNegativeInt })
  .strict();

export const tierSchema = z
  .object({
    /** Higher wins when a user is in several tier groups; also the Cognito group precedence. */
    priority: nonNegativeInt.max(1000),
    /** Model ids from `models`, or `"*"` for every allowlisted model. */
    models: z.array(z.string().min(1)).min(1),
    limits: z
      .object({ daily: tokenLimitsSchema, monthly: tokenLimitsSchema })
      .strict(),
    /** Upper bound for a request's `maxTokens`. */
    maxOutputTokensPerRequest: positiveInt,
    /** Requests one user may have streaming at once. */
    maxConcurrentRequests: positiveInt.max(100),
    /** Requests one user may start per minute. @default unlimited */
    requestsPerMinute: positiveInt.optional(),
  })
  .strict();

const tierNamePattern = /^[a-z][a-z0-9-]{0,30}$/;

const preparedResponseSchema = z
  .object({
    prompt: z.string().min(1).max(2000),
    response: z.string().min(1).max(100_000),
    modelId: z.string().optional(),
  })
  .strict();

/**
 * The name Cognito knows an OIDC or SAML provider by (CreateIdentityProvider ProviderName):
 * 3-32 characters that do not start or end with `_` (this project also keeps to letters,
 * digits, `_` and `-`), and not a name Cognito reserves for its own or the social providers.
 */
export const FEDERATED_PROVIDER_NAME_PATTERN = /^[A-Za-z0-9-][A-Za-z0-9_-]{1,30}[A-Za-z0-9-]$/;
export const RESERVED_PROVIDER_NAMES = ["Cognito", "Google", "Facebook", "LoginWithAmazon", "SignInWithApple"];
const federatedProviderName = z
  .string()
  .regex(FEDERATED_PROVIDER_NAME_PATTERN, "must be 3-32 letters, digits, '_' or '-', not starting or ending with '_' (Cognito's rule)")
  .refine((name) => !RESERVED_PROVIDER_NAMES.some((r) => r.toLowerCase() === name.toLowerCase()), {
    message: `must not be one of the names Cognito reserves (${RESERVED_PROVIDER_NAMES.join(", ")})`,
  });

/**
 * A verified SES identity's ARN in any partition (aws, aws-cn, aws-us-gov, aws-iso...):
 * `arn:<partition>:ses:<region>:<account>:identity/<domain or address>`.
 */
export const SES_IDENTITY_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:ses:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:identity\/[^\s/]+$/;

const identityProviderSchema = z.object({
  google: z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) }).strict().optional(),
  facebook: z
    .object({
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      /** Graph API version Cognito calls (`v17.0`); Cognito picks one when absent. */
      apiVersion: z.string().regex(/^v\d+\.\d+$/, 'expected a Graph API version such as "v17.0"').optional(),
    })
    .strict()
    .optional(),
  amazon: z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) }).strict().optional(),
  oidc: z
    .object({
      name: federatedProviderName,
      issuer: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scopes: z.array(z.string()).default(["openid", "email", "profile"]),
    })
    .strict()
    .optional(),
  saml: z
    .object({ name: federatedProviderName, metadataUrl: z.string().url() })
    .strict()
    .optional(),
}).strict().superRefine((providers, ctx) => {
  // The app client lists providers by name, and names are unique within a user pool.
  if (providers.oidc && providers.saml && providers.oidc.name.toLowerCase() === providers.saml.name.toLowerCase()) {
    ctx.addIssue({ code: "custom", path: ["saml", "name"], message: `same name as identity.providers.oidc.name ("${providers.oidc.name}"); provider names must differ` });
  }
});

export const gatewayConfigSchema = z
  .object({
    /** The model allowlist. IAM is scoped to exactly these. */
    models: z.array(modelSchema).min(1),
    /** Tiers by name. Must include `default`. Each tier becomes a Cognito group. */
    tiers: z.record(z.string().regex(tierNamePattern, "tier names are lowercase letters, digits and '-'"), tierSchema),
    /** Sent to the model before every conversation. @default a short assistant prompt */
    systemPrompt: z.string().max(20_000).default("You are a helpful assistant. Answer concisely."),
    /** Longest user message accepted. @default 8000 */
    maxInputChars: positiveInt.max(MAX_INPUT_CHARS_CEILING).default(8000),
    history: z
      .object({ maxTurns: positiveInt.max(200).default(20), ttlDays: positiveInt.max(3650).default(30) })
      .strict()
      .default({ maxTurns: 20, ttlDays: 30 }),
    cache: z
      .object({
        enabled: z.boolean().default(true),
        ttlDays: positiveInt.max(3650).default(7),
        prepared: z.array(preparedResponseSchema).default([]),
      })
      .strict()
      .default({ enabled: true, ttlDays: 7, prepared: [] }),
    guardrail: z
      .object({
        enabled: z.boolean().default(false),
        /** Content filter strength for hate, insults, sexual, violence, misconduct. @default "MEDIUM" */
        contentFilterStrength: z.enum(["LOW", "MEDIUM", "HIGH"]).default("MEDIUM"),
        /** Block prompt attacks (jailbreaks, injections). @default true */
        promptAttackFilter: z.boolean().default(true),
        /** Mask e-mail addresses, phone numbers and the like in answers. @default true */
        maskPii: z.boolean().default(true),
        /** Topics to deny, each a name and a definition. @default [] */
        deniedTopics: z
          .array(z.object({ name: z.string().min(1).max(100), definition: z.string().min(1).max(200) }).strict())
          .default([]),
        blockedMessage: z.string().min(1).max(500).default("Sorry, I can't help with that request."),
      })
      .strict()
      .default({
        enabled: false,
        contentFilterStrength: "MEDIUM",
        promptAttackFilter: true,
        maskPii: true,
        deniedTopics: [],
        blockedMessage: "Sorry, I can't help with that request.",
      }),
    relay: z
      .object({
        /** How long deltas are coalesced before a publish. @default 100 */
        flushIntervalMs: positiveInt.min(10).max(2000).default(100),
      })
      .strict()
      .default({ flushIntervalMs: 100 }),
    /** Models tried, in order, when the chosen one is throttled or unavailable. @default [] */
    fallbackModels: z.array(z.string()).default([]),
    observability: z
      .object({
        logRetentionDays: z
          .number()
          .int()
          .refine((d) => LOG_RETENTION_DAYS.includes(d), `must be one of CloudWatch's retention values: ${LOG_RETENTION_DAYS.join(", ")}`)
          .default(14),
        alarmEmail: z.string().email().optional(),
        /** Let logs carry the first characters of prompts and answers. Never in prod. @default false */
        logPreviews: z.boolean().default(false),
        metricsNamespace: z.string().regex(METRICS_NAMESPACE_PATTERN).default(DEFAULT_METRICS_NAMESPACE),
      })
      .strict()
      .default({ logRetentionDays: 14, logPreviews: false, metricsNamespace: DEFAULT_METRICS_NAMESPACE }),
    analytics: analyticsSchema,
    identity: z
      .object({
        selfSignUp: z.boolean().default(false),
        mfa: z.enum(["OFF", "OPTIONAL", "ON"]).default("OPTIONAL"),
        /** Hosted UI domain prefix; no hosted UI when absent. */
        domainPrefix: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/).optional(),
        /** Verified SES identity ARN to send Cognito mail from (prod). */
        sesSourceArn: z
          .string()
          .regex(SES_IDENTITY_ARN_PATTERN, "expected a verified SES identity's ARN, arn:<partition>:ses:<region>:<account id>:identity/<domain or address>")
          .optional(),
        sesFromAddress: z.string().optional(),
        callbackUrls: z.array(z.string().url()).default([]),
        logoutUrls: z.array(z.string().url()).default([]),
        providers: identityProviderSchema.default({}),
      })
      .strict()
      .default({ selfSignUp: false, mfa: "OPTIONAL", callbackUrls: [], logoutUrls: [], providers: {} }),
    waf: z
      .object({
        enabled: z.boolean().default(false),
        /** Requests one IP may make in 5 minutes before it is blocked. @default 2000 */
        rateLimitPer5Min: positiveInt.min(10).max(2_000_000_000).default(2000),
      })
      .strict()
      .default({ enabled: false, rateLimitPer5Min: 2000 }),
    protection: z
      .object({
        /** Point-in-time recovery on tables. @default false */
        pointInTimeRecovery: z.boolean().default(false),
        /** Deletion protection on tables and the user pool. @default false */
        deletionProtection: z.boolean().default(false),
      })
      .strict()
      .default({ pointInTimeRecovery: false, deletionProtection: false }),
    worker: z
      .object({
        /** Seconds a chat worker may run; longest answer at the slowest model must fit. @default 300 */
        timeoutSeconds: positiveInt.min(30).max(900).default(300),
        memoryMb: positiveInt.min(128).max(10240).default(512),
        /** Concurrent chat workers for the whole stack. @default 50 */
        reservedConcurrency: positiveInt.max(10_000).default(50),
        /** Drop an async invocation not started within this many seconds. @default 120 */
        maximumEventAgeSeconds: positiveInt.min(60).max(21600).default(120),
      })
      .strict()
      .default({ timeoutSeconds: 300, memoryMb: 512, reservedConcurrency: 50, maximumEventAgeSeconds: 120 }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const ids = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (ids.has(m.id)) ctx.addIssue({ code: "custom", path: ["models", i, "id"], message: `duplicate model id "${m.id}"` });
      ids.add(m.id);
    });
    const defaults = cfg.models.filter((m) => m.default);
    if (defaults.length > 1) {
      ctx.addIssue({ code: "custom", path: ["models"], message: "at most one model may set default: true" });
    }
    if (!cfg.tiers.default) {
      ctx.addIssue({ code: "custom", path: ["tiers"], message: 'a tier named "default" is required (users in no tier group get it)' });
    }
    const priorities = new Map<number, string>();
    for (const [name, tier] of Object.entries(cfg.tiers)) {
      const other = priorities.get(tier.priority);
      if (other) {
        ctx.addIssue({ code: "custom", path: ["tiers", name, "priority"], message: `same priority as tier "${other}"; priorities must differ` });
      }
      priorities.set(tier.priority, name);
      tier.models.forEach((id, i) => {
        if (id !== "*" && !ids.has(id)) {
          ctx.addIssue({ code: "custom", path: ["tiers", name, "models", i], message: `"${id}" is not in the models allowlist` });
        }
      });
      const largest = Math.max(...cfg.models.map((m) => m.maxOutputTokens));
      if (tier.maxOutputTokensPerRequest > largest) {
        ctx.addIssue({
          code: "custom",
          path: ["tiers", name, "maxOutputTokensPerRequest"],
          message: `exceeds every model's maxOutputTokens (${largest})`,
        });
      }
    }
    cfg.fallbackModels.forEach((id, i) => {
      if (!ids.has(id)) ctx.addIssue({ code: "custom", path: ["fallbackModels", i], message: `"${id}" is not in the models allowlist` });
    });
    cfg.cache.prepared.forEach((p, i) => {
      if (p.modelId && !ids.has(p.modelId)) {
        ctx.addIssue({ code: "custom", path: ["cache", "prepared", i, "modelId"], message: `"${p.modelId}" is not in the models allowlist` });
      }
    });
  });


export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type ModelConfig = GatewayConfig["models"][number];
export type TierConfig = GatewayConfig["tiers"][string];
export type ModelPricing = z.output<typeof modelPricingSchema>;
