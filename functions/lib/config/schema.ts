/**
 * The stack-config schema: every `ai-gateway:*` key, its default and its rules.
 *
 * One schema serves both sides: index.ts validates the stack's config before any resource
 * exists (so `pulumi preview` fails naming the key), and the functions validate the JSON file
 * bundled into their code archive at cold start. The README's configuration reference follows
 * this file.
 *
 * Written with zod/mini: the same checks and messages as zod's chained API, but its schemas
 * carry no per-instance methods, so building and first parsing this schema costs the chat
 * worker's cold start about a third of what it did (docs/performance.md, "Worker init").
 */
import * as z from "zod/mini";
import { refuse } from "../schema-support.js";
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN } from "./metrics-namespace.js";

/** AppSync Events publishes at most 240 KB per event; leave room for the envelope. */
export const MAX_INPUT_CHARS_CEILING = 60_000;

/** CloudWatch Logs accepts only these retention values. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** A whole number passing `sign` (positive or non-negative), within [min, max] where given. */
function wholeNumber(sign: z.core.$ZodCheck<number>, bounds: { min?: number; max?: number } = {}) {
  const checks: z.core.$ZodCheck<number>[] = [z.int(), sign];
  if (bounds.min !== undefined) checks.push(z.minimum(bounds.min));
  if (bounds.max !== undefined) checks.push(z.maximum(bounds.max));
  return z.number().check(...checks);
}
const positiveInt = (bounds?: { min?: number; max?: number }) => wholeNumber(z.positive(), bounds);
const nonNegativeInt = (bounds?: { min?: number; max?: number }) => wholeNumber(z.nonnegative(), bounds);

/** A string of `min` to `max` characters. */
const text = (min: number, max?: number) => z.string().check(...(max === undefined ? [z.minLength(min)] : [z.minLength(min), z.maxLength(max)]));

/** A Bedrock foundation-model id or a cross-region inference-profile id. */
const modelIdPattern = /^(?:(?:us|eu|apac|jp|au|ca|global|us-gov)\.)?[a-z0-9-]+\.[A-Za-z0-9.:_-]+$/;

// --- Observability and analytics -------------------------------------------------------------

/** A model's on-demand price in USD per million tokens, as on the Bedrock pricing page. */
export const modelPricingSchema = z.strictObject({
  inputPerMillionTokens: z.number().check(z.nonnegative(), z.maximum(10_000)),
  outputPerMillionTokens: z.number().check(z.nonnegative(), z.maximum(10_000)),
});

/** S3 lifecycle (days) accepted for analytics records: at least a day, at most ten years. */
export const ANALYTICS_RETENTION_DAYS_MAX = 3650;

const analyticsSchema = z._default(
  z.strictObject({
    /** One analytics record per chat turn (Firehose -> S3 Parquet -> Glue -> Athena). @default true */
    enabled: z._default(z.boolean(), true),
    /** Days the Parquet records are kept in S3 before the lifecycle deletes them. @default 365 */
    retentionDays: z._default(positiveInt({ max: ANALYTICS_RETENTION_DAYS_MAX }), 365),
  }),
  { enabled: true, retentionDays: 365 },
);

// ---------------------------------------------------------------------------------------------

export const modelSchema = z.strictObject({
  /** Bedrock model id or inference-profile id, e.g. `us.amazon.nova-lite-v1:0`. */
  id: z.string().check(z.regex(modelIdPattern, "must be a Bedrock model or inference-profile id")),
  /** Display name shown to users. */
  name: text(1, 100),
  /** The model's maker, e.g. `Anthropic`. */
  provider: text(1, 50),
  /** The most output tokens the model produces in one answer. @default 4096 */
  maxOutputTokens: z._default(positiveInt({ max: 200_000 }), 4096),
  /** The model used when a request names none. At most one model sets it. @default false */
  default: z._default(z.boolean(), false),
  /** USD prices for cost estimates (analytics); no cost is reported for a model without them. */
  pricing: z.optional(modelPricingSchema),
  /**
   * The model's context window in tokens: stored history that would not fit beside the system
   * prompt, the message and the answer is left out, oldest first. @default 32000
   */
  contextTokens: z.optional(positiveInt({ min: 1000, max: 10_000_000 })),
});

const tokenLimitsSchema = z.strictObject({ inputTokens: nonNegativeInt(), outputTokens: nonNegativeInt() });

export const tierSchema = z.strictObject({
  /** Higher wins when a user is in several tier groups; also the Cognito group precedence. */
  priority: nonNegativeInt({ max: 1000 }),
  /** Model ids from `models`, or `"*"` for every allowlisted model. */
  models: z.array(text(1)).check(z.minLength(1)),
  limits: z.strictObject({ daily: tokenLimitsSchema, monthly: tokenLimitsSchema }),
  /** Upper bound for a request's `maxTokens`. */
  maxOutputTokensPerRequest: positiveInt(),
  /** Requests one user may have streaming at once. */
  maxConcurrentRequests: positiveInt({ max: 100 }),
  /** Requests one user may start per minute. @default unlimited */
  requestsPerMinute: z.optional(positiveInt()),
});

const tierNamePattern = /^[a-z][a-z0-9-]{0,30}$/;

const preparedResponseSchema = z.strictObject({
  prompt: text(1, 2000),
  response: text(1, 100_000),
  modelId: z.optional(z.string()),
});

/**
 * The name Cognito knows an OIDC or SAML provider by (CreateIdentityProvider ProviderName):
 * 3-32 characters that do not start or end with `_` (this project also keeps to letters,
 * digits, `_` and `-`), and not a name Cognito reserves for its own or the social providers.
 */
export const FEDERATED_PROVIDER_NAME_PATTERN = /^[A-Za-z0-9-][A-Za-z0-9_-]{1,30}[A-Za-z0-9-]$/;
export const RESERVED_PROVIDER_NAMES = ["Cognito", "Google", "Facebook", "LoginWithAmazon", "SignInWithApple"];
const federatedProviderName = z.string().check(
  z.regex(FEDERATED_PROVIDER_NAME_PATTERN, "must be 3-32 letters, digits, '_' or '-', not starting or ending with '_' (Cognito's rule)"),
  z.refine((name) => !RESERVED_PROVIDER_NAMES.some((r) => r.toLowerCase() === name.toLowerCase()), {
    message: `must not be one of the names Cognito reserves (${RESERVED_PROVIDER_NAMES.join(", ")})`,
  }),
);

/**
 * A verified SES identity's ARN in any partition (aws, aws-cn, aws-us-gov, aws-iso...):
 * `arn:<partition>:ses:<region>:<account>:identity/<domain or address>`.
 */
export const SES_IDENTITY_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:ses:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:identity\/[^\s/]+$/;

const url = () => z.string().check(z.url());
const oauthClient = () => z.strictObject({ clientId: text(1), clientSecret: text(1) });

const identityProviderSchema = z
  .strictObject({
    google: z.optional(oauthClient()),
    facebook: z.optional(
      z.strictObject({
        clientId: text(1),
        clientSecret: text(1),
        /** Graph API version Cognito calls (`v17.0`); Cognito picks one when absent. */
        apiVersion: z.optional(z.string().check(z.regex(/^v\d+\.\d+$/, 'expected a Graph API version such as "v17.0"'))),
      }),
    ),
    amazon: z.optional(oauthClient()),
    oidc: z.optional(
      z.strictObject({
        name: federatedProviderName,
        issuer: url(),
        clientId: text(1),
        clientSecret: text(1),
        scopes: z._default(z.array(z.string()), ["openid", "email", "profile"]),
      }),
    ),
    saml: z.optional(z.strictObject({ name: federatedProviderName, metadataUrl: url() })),
  })
  .check(
    z.superRefine((providers, ctx) => {
      // The app client lists providers by name, and names are unique within a user pool.
      if (providers.oidc && providers.saml && providers.oidc.name.toLowerCase() === providers.saml.name.toLowerCase()) {
        refuse(ctx, ["saml", "name"], `same name as identity.providers.oidc.name ("${providers.oidc.name}"); provider names must differ`);
      }
    }),
  );

const GUARDRAIL_DEFAULTS = {
  enabled: false,
  contentFilterStrength: "MEDIUM" as const,
  promptAttackFilter: true,
  maskPii: true,
  deniedTopics: [],
  blockedMessage: "Sorry, I can't help with that request.",
};

const gatewayConfigShape = z.strictObject({
  /** The model allowlist. IAM is scoped to exactly these. */
  models: z.array(modelSchema).check(z.minLength(1)),
  /** Tiers by name. Must include `default`. Each tier becomes a Cognito group. */
  tiers: z.record(z.string().check(z.regex(tierNamePattern, "tier names are lowercase letters, digits and '-'")), tierSchema),
  /** Sent to the model before every conversation. @default a short assistant prompt */
  systemPrompt: z._default(z.string().check(z.maxLength(20_000)), "You are a helpful assistant. Answer concisely."),
  /** Longest user message accepted. @default 8000 */
  maxInputChars: z._default(positiveInt({ max: MAX_INPUT_CHARS_CEILING }), 8000),
  history: z._default(
    z.strictObject({ maxTurns: z._default(positiveInt({ max: 200 }), 20), ttlDays: z._default(positiveInt({ max: 3650 }), 30) }),
    { maxTurns: 20, ttlDays: 30 },
  ),
  cache: z._default(
    z.strictObject({
      enabled: z._default(z.boolean(), true),
      ttlDays: z._default(positiveInt({ max: 3650 }), 7),
      prepared: z._default(z.array(preparedResponseSchema), []),
    }),
    { enabled: true, ttlDays: 7, prepared: [] },
  ),
  guardrail: z._default(
    z.strictObject({
      enabled: z._default(z.boolean(), GUARDRAIL_DEFAULTS.enabled),
      /** Content filter strength for hate, insults, sexual, violence, misconduct. @default "MEDIUM" */
      contentFilterStrength: z._default(z.enum(["LOW", "MEDIUM", "HIGH"]), GUARDRAIL_DEFAULTS.contentFilterStrength),
      /** Block prompt attacks (jailbreaks, injections). @default true */
      promptAttackFilter: z._default(z.boolean(), GUARDRAIL_DEFAULTS.promptAttackFilter),
      /** Mask e-mail addresses, phone numbers and the like in answers. @default true */
      maskPii: z._default(z.boolean(), GUARDRAIL_DEFAULTS.maskPii),
      /** Topics to deny, each a name and a definition. @default [] */
      deniedTopics: z._default(z.array(z.strictObject({ name: text(1, 100), definition: text(1, 200) })), GUARDRAIL_DEFAULTS.deniedTopics),
      blockedMessage: z._default(text(1, 500), GUARDRAIL_DEFAULTS.blockedMessage),
    }),
    GUARDRAIL_DEFAULTS,
  ),
  relay: z._default(
    z.strictObject({
      /** How long deltas are coalesced before a publish. @default 100 */
      flushIntervalMs: z._default(positiveInt({ min: 10, max: 2000 }), 100),
    }),
    { flushIntervalMs: 100 },
  ),
  /** Models tried, in order, when the chosen one is throttled or unavailable. @default [] */
  fallbackModels: z._default(z.array(z.string()), []),
  observability: z._default(
    z.strictObject({
      logRetentionDays: z._default(
        z.number().check(
          z.int(),
          z.refine((d: number) => LOG_RETENTION_DAYS.includes(d), `must be one of CloudWatch's retention values: ${LOG_RETENTION_DAYS.join(", ")}`),
        ),
        14,
      ),
      alarmEmail: z.optional(z.string().check(z.email())),
      /** Let logs carry the first characters of prompts and answers. Never in prod. @default false */
      logPreviews: z._default(z.boolean(), false),
      metricsNamespace: z._default(z.string().check(z.regex(METRICS_NAMESPACE_PATTERN)), DEFAULT_METRICS_NAMESPACE),
    }),
    { logRetentionDays: 14, logPreviews: false, metricsNamespace: DEFAULT_METRICS_NAMESPACE },
  ),
  analytics: analyticsSchema,
  identity: z._default(
    z.strictObject({
      selfSignUp: z._default(z.boolean(), false),
      mfa: z._default(z.enum(["OFF", "OPTIONAL", "ON"]), "OPTIONAL"),
      /** Hosted UI domain prefix; no hosted UI when absent. */
      domainPrefix: z.optional(z.string().check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/))),
      /** Verified SES identity ARN to send Cognito mail from (prod). */
      sesSourceArn: z.optional(
        z
          .string()
          .check(z.regex(SES_IDENTITY_ARN_PATTERN, "expected a verified SES identity's ARN, arn:<partition>:ses:<region>:<account id>:identity/<domain or address>")),
      ),
      sesFromAddress: z.optional(z.string()),
      callbackUrls: z._default(z.array(url()), []),
      logoutUrls: z._default(z.array(url()), []),
      providers: z._default(identityProviderSchema, {}),
    }),
    { selfSignUp: false, mfa: "OPTIONAL" as const, callbackUrls: [], logoutUrls: [], providers: {} },
  ),
  waf: z._default(
    z.strictObject({
      enabled: z._default(z.boolean(), false),
      /** Requests one IP may make in 5 minutes before it is blocked. @default 2000 */
      rateLimitPer5Min: z._default(positiveInt({ min: 10, max: 2_000_000_000 }), 2000),
    }),
    { enabled: false, rateLimitPer5Min: 2000 },
  ),
  protection: z._default(
    z.strictObject({
      /** Point-in-time recovery on tables. @default false */
      pointInTimeRecovery: z._default(z.boolean(), false),
      /** Deletion protection on tables and the user pool. @default false */
      deletionProtection: z._default(z.boolean(), false),
    }),
    { pointInTimeRecovery: false, deletionProtection: false },
  ),
  worker: z._default(
    z.strictObject({
      /** Seconds a chat worker may run; longest answer at the slowest model must fit. @default 300 */
      timeoutSeconds: z._default(positiveInt({ min: 30, max: 900 }), 300),
      memoryMb: z._default(positiveInt({ min: 128, max: 10240 }), 512),
      /** Concurrent chat workers for the whole stack. @default 50 */
      reservedConcurrency: z._default(positiveInt({ max: 10_000 }), 50),
      /** Drop an async invocation not started within this many seconds. @default 120 */
      maximumEventAgeSeconds: z._default(positiveInt({ min: 60, max: 21600 }), 120),
    }),
    { timeoutSeconds: 300, memoryMb: 512, reservedConcurrency: 50, maximumEventAgeSeconds: 120 },
  ),
});

/** The rules that span keys: allowlist references, unique ids and priorities, a default tier. */
function crossKeyRules(cfg: z.output<typeof gatewayConfigShape>, ctx: z.core.$RefinementCtx<z.output<typeof gatewayConfigShape>>) {
  const ids = new Set<string>();
  cfg.models.forEach((m, i) => {
    if (ids.has(m.id)) refuse(ctx, ["models", i, "id"], `duplicate model id "${m.id}"`);
    ids.add(m.id);
  });
  const defaults = cfg.models.filter((m) => m.default);
  if (defaults.length > 1) {
    refuse(ctx, ["models"], "at most one model may set default: true");
  }
  if (!cfg.tiers.default) {
    refuse(ctx, ["tiers"], 'a tier named "default" is required (users in no tier group get it)');
  }
  const priorities = new Map<number, string>();
  for (const [name, tier] of Object.entries(cfg.tiers)) {
    const other = priorities.get(tier.priority);
    if (other) {
      refuse(ctx, ["tiers", name, "priority"], `same priority as tier "${other}"; priorities must differ`);
    }
    priorities.set(tier.priority, name);
    tier.models.forEach((id, i) => {
      if (id !== "*" && !ids.has(id)) {
        refuse(ctx, ["tiers", name, "models", i], `"${id}" is not in the models allowlist`);
      }
    });
    const largest = Math.max(...cfg.models.map((m) => m.maxOutputTokens));
    if (tier.maxOutputTokensPerRequest > largest) {
      refuse(ctx, ["tiers", name, "maxOutputTokensPerRequest"], `exceeds every model's maxOutputTokens (${largest})`);
    }
  }
  cfg.fallbackModels.forEach((id, i) => {
    if (!ids.has(id)) refuse(ctx, ["fallbackModels", i], `"${id}" is not in the models allowlist`);
  });
  cfg.cache.prepared.forEach((p, i) => {
    if (p.modelId && !ids.has(p.modelId)) {
      refuse(ctx, ["cache", "prepared", i, "modelId"], `"${p.modelId}" is not in the models allowlist`);
    }
  });
}

export const gatewayConfigSchema = gatewayConfigShape.check(z.superRefine(crossKeyRules));

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type ModelConfig = GatewayConfig["models"][number];
export type TierConfig = GatewayConfig["tiers"][string];
export type ModelPricing = z.output<typeof modelPricingSchema>;
