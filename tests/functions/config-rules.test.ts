/**
 * The stack-config schema's defaults, text limits, patterns and cross-key rules, each pinned
 * by what an operator sees: the parsed config, or the problem line `pulumi preview` prints.
 */
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { RESERVED_PROVIDER_NAMES, type GatewayConfigInput } from "../../functions/lib/config/schema.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, problemsOf, withValue } from "../support/config-fixtures.js";

const LIMITS = { daily: { inputTokens: 1000, outputTokens: 1000 }, monthly: { inputTokens: 10_000, outputTokens: 10_000 } };

/** The least a stack can set: one model and the default tier. */
function minimalConfig(): GatewayConfigInput {
  return {
    models: [{ id: MODEL_NOVA_LITE, name: "Nova Lite", provider: "Amazon" }],
    tiers: { default: { priority: 0, models: ["*"], limits: LIMITS, maxOutputTokensPerRequest: 1000, maxConcurrentRequests: 1 } },
  };
}

describe("defaults of a stack that sets only models and tiers", () => {
  it("fills every section with its documented defaults", () => {
    const { models, tiers, ...rest } = parseGatewayConfig(minimalConfig());
    expect(models).toEqual([{ id: MODEL_NOVA_LITE, name: "Nova Lite", provider: "Amazon", maxOutputTokens: 4096, default: false }]);
    expect(tiers.default).toEqual(minimalConfig().tiers.default);
    expect(rest).toEqual({
      systemPrompt: "You are a helpful assistant. Answer concisely.",
      maxInputChars: 8000,
      history: { maxTurns: 20, ttlDays: 30 },
      cache: { enabled: true, ttlDays: 7, prepared: [] },
      guardrail: {
        enabled: false,
        contentFilterStrength: "MEDIUM",
        promptAttackFilter: true,
        maskPii: true,
        deniedTopics: [],
        blockedMessage: "Sorry, I can't help with that request.",
      },
      relay: { flushIntervalMs: 100 },
      fallbackModels: [],
      observability: { logRetentionDays: 14, logPreviews: false, metricsNamespace: "AiGateway" },
      analytics: { enabled: true, retentionDays: 365 },
      identity: { selfSignUp: false, mfa: "OPTIONAL", callbackUrls: [], logoutUrls: [], providers: {} },
      waf: { enabled: false, rateLimitPer5Min: 2000 },
      protection: { pointInTimeRecovery: false, deletionProtection: false },
      worker: { timeoutSeconds: 300, memoryMb: 512, reservedConcurrency: 50, maximumEventAgeSeconds: 120 },
    });
  });

  it("fills a section's own defaults when the section is given in part", () => {
    const config = parseGatewayConfig({ ...minimalConfig(), history: {}, cache: { enabled: false }, identity: { mfa: "ON" }, analytics: { enabled: false } });
    expect(config.history).toEqual({ maxTurns: 20, ttlDays: 30 });
    expect(config.cache).toEqual({ enabled: false, ttlDays: 7, prepared: [] });
    expect(config.identity).toEqual({ selfSignUp: false, mfa: "ON", callbackUrls: [], logoutUrls: [], providers: {} });
    expect(config.analytics).toEqual({ enabled: false, retentionDays: 365 });
  });

  it("gives an OIDC provider the openid, email and profile scopes unless it names its own", () => {
    const oidc = { name: "Corp", issuer: "https://login.example.com", clientId: "id", clientSecret: "secret" };
    expect(parseGatewayConfig({ ...minimalConfig(), identity: { providers: { oidc } } }).identity.providers.oidc?.scopes).toEqual(["openid", "email", "profile"]);
    expect(parseGatewayConfig({ ...minimalConfig(), identity: { providers: { oidc: { ...oidc, scopes: ["openid"] } } } }).identity.providers.oidc?.scopes).toEqual(["openid"]);
  });
});

describe("text and number limits", () => {
  /** [key path, longest text accepted]; one character more is refused, naming the key. */
  const texts: [string, number][] = [
    ["models.0.name", 100],
    ["models.0.provider", 50],
    ["systemPrompt", 20_000],
    ["guardrail.blockedMessage", 500],
  ];

  it.each(texts)("%s accepts %i characters and refuses one more", (path, longest) => {
    expect(problemsOf(withValue(path, "x".repeat(longest)))).toEqual([]);
    expect(problemsOf(withValue(path, "x".repeat(longest + 1)))).toEqual([
      `ai-gateway:${path}: Too big: expected string to have <=${longest} characters`,
    ]);
  });

  it.each(["models.0.name", "models.0.provider", "guardrail.blockedMessage", "tiers.default.models.0", "identity.providers.google.clientId"])("%s refuses an empty text", (path) => {
    expect(problemsOf(withValue(path, ""))).toContain(`ai-gateway:${path}: Too small: expected string to have >=1 characters`);
  });

  it("bounds a prepared answer's prompt (2,000) and response (100,000) and a denied topic's name (100) and definition (200)", () => {
    const prepared = (prompt: string, response: string) => withValue("cache.prepared", [{ prompt, response }]);
    expect(problemsOf(prepared("p".repeat(2000), "r".repeat(100_000)))).toEqual([]);
    expect(problemsOf(prepared("p".repeat(2001), "r".repeat(100_001)))).toEqual([
      "ai-gateway:cache.prepared.0.prompt: Too big: expected string to have <=2000 characters",
      "ai-gateway:cache.prepared.0.response: Too big: expected string to have <=100000 characters",
    ]);
    const topic = (name: string, definition: string) => withValue("guardrail.deniedTopics", [{ name, definition }]);
    expect(problemsOf(topic("n".repeat(100), "d".repeat(200)))).toEqual([]);
    expect(problemsOf(topic("n".repeat(101), "d".repeat(201)))).toEqual([
      "ai-gateway:guardrail.deniedTopics.0.name: Too big: expected string to have <=100 characters",
      "ai-gateway:guardrail.deniedTopics.0.definition: Too big: expected string to have <=200 characters",
    ]);
  });

  /** [key path, last value accepted at the edge, first value refused past it] (configRules has the others) */
  const numbers: [string, number, number][] = [
    ["analytics.retentionDays", 3650, 3651],
    ["models.0.maxOutputTokens", 200_000, 200_001],
    ["models.0.contextTokens", 1000, 999],
    ["models.0.contextTokens", 10_000_000, 10_000_001],
    ["history.ttlDays", 3650, 3651],
    ["cache.ttlDays", 3650, 3651],
    ["tiers.pro.limits.daily.inputTokens", 0, -1],
    ["models.0.pricing.inputPerMillionTokens", 10_000, 10_001],
    ["models.0.pricing.outputPerMillionTokens", 0, -0.01],
  ];

  it.each(numbers)("%s accepts %d and refuses %d, naming the key", (path, accepted, refused) => {
    const priced = withValue("models.0.pricing", { inputPerMillionTokens: 1, outputPerMillionTokens: 2 });
    const config = (value: number) => withValue(path, value, priced);
    expect(problemsOf(config(accepted))).toEqual([]);
    expect(problemsOf(config(refused))).toEqual([expect.stringMatching(new RegExp(`^ai-gateway:${path.replace(/\./g, "\\.")}: Too (big|small)`))]);
  });

  it("refuses a fractional token count with zod's message", () => {
    expect(problemsOf(withValue("tiers.pro.maxConcurrentRequests", 2.5))).toEqual(["ai-gateway:tiers.pro.maxConcurrentRequests: Invalid input: expected int, received number"]);
  });

  it("refuses a log retention CloudWatch does not offer, listing the ones it does", () => {
    expect(problemsOf(withValue("observability.logRetentionDays", 15))).toEqual([
      "ai-gateway:observability.logRetentionDays: must be one of CloudWatch's retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ]);
  });
});

describe("patterns", () => {
  it.each(["us.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-gov.meta.llama3-8b-instruct-v1:0"])(
    "accepts the model id %s",
    (id) => {
      const config = { ...minimalConfig(), models: [{ id, name: "M", provider: "P" }] };
      expect(problemsOf(config)).toEqual([]);
    },
  );

  it.each(["US.amazon.nova-lite-v1:0", "us.amazon.nova-lite-v1:0 extra", "nova", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova"])("refuses the model id %j", (id) => {
    const config = { ...minimalConfig(), models: [{ id, name: "M", provider: "P" }] };
    expect(problemsOf(config)).toEqual(["ai-gateway:models.0.id: must be a Bedrock model or inference-profile id"]);
  });

  it.each(["Pro", "pro!", "1pro", "p".repeat(32)])("refuses the tier name %j with the naming rule, not zod's generic record message", (name) => {
    const tier = minimalConfig().tiers.default!;
    const problems = problemsOf({ ...minimalConfig(), tiers: { default: tier, [name]: { ...tier, priority: 1 } } });
    expect(problems).toEqual([`ai-gateway:tiers.${name}: tier names are lowercase letters, digits and '-'`]);
  });

  it.each(["a", "ab", "abc", "my-gateway-dev", "a".repeat(63)])("accepts the hosted UI domain prefix %j", (prefix) => {
    expect(problemsOf(withValue("identity.domainPrefix", prefix))).toEqual([]);
  });

  it.each(["-abc", "abc-", "a_b", "Abc", "a".repeat(64)])("refuses the hosted UI domain prefix %j", (prefix) => {
    expect(problemsOf(withValue("identity.domainPrefix", prefix))).toEqual([expect.stringMatching(/^ai-gateway:identity\.domainPrefix: Invalid string/)]);
  });

  it.each(["v17.0", "v2.12", "v10.0"])("accepts the Graph API version %j", (apiVersion) => {
    expect(problemsOf(withValue("identity.providers", { facebook: { clientId: "id", clientSecret: "s", apiVersion } }))).toEqual([]);
  });

  it.each(["17.0", "xv17.0", "v17.0-beta", "v17"])("refuses the Graph API version %j", (apiVersion) => {
    expect(problemsOf(withValue("identity.providers", { facebook: { clientId: "id", clientSecret: "s", apiVersion } }))).toEqual([
      'ai-gateway:identity.providers.facebook.apiVersion: expected a Graph API version such as "v17.0"',
    ]);
  });

  it("accepts an SES identity in a region numbered past 9, and refuses text around an ARN", () => {
    const arn = "arn:aws:ses:ap-southeast-10:111122223333:identity/example.com";
    expect(problemsOf(withValue("identity.sesSourceArn", arn))).toEqual([]);
    for (const bad of [`x${arn}`, `${arn}/more`]) {
      expect(problemsOf(withValue("identity.sesSourceArn", bad))).toEqual([expect.stringMatching(/^ai-gateway:identity\.sesSourceArn: expected a verified SES identity's ARN/)]);
    }
  });

  it.each(RESERVED_PROVIDER_NAMES)("refuses %s as an OIDC provider name, whatever its case", (name) => {
    const oidc = { name: name.toLowerCase(), issuer: "https://login.example.com", clientId: "id", clientSecret: "secret" };
    expect(problemsOf(withValue("identity.providers", { oidc }))).toEqual([
      "ai-gateway:identity.providers.oidc.name: must not be one of the names Cognito reserves (Cognito, Google, Facebook, LoginWithAmazon, SignInWithApple)",
    ]);
  });

  it.each([
    ["guardrail.contentFilterStrength", ["LOW", "MEDIUM", "HIGH"]],
    ["identity.mfa", ["OFF", "OPTIONAL", "ON"]],
  ])("accepts every value %s lists", (path, values) => {
    for (const value of values) expect(parseGatewayConfig(withValue(path, value))).toBeTruthy();
    expect(problemsOf(withValue(path, "SOME"))).toEqual([expect.stringMatching(new RegExp(`^ai-gateway:${path.replace(/\./g, "\\.")}: Invalid option`))]);
  });
});

describe("rules across keys", () => {
  it("accepts fallback models and prepared answers that name allowlisted models", () => {
    const config = { ...devLikeConfig(), fallbackModels: [MODEL_NOVA_PRO], cache: { prepared: [{ prompt: "Hi", response: "Hello", modelId: MODEL_NOVA_LITE }, { prompt: "Any", response: "model" }] } };
    expect(problemsOf(config)).toEqual([]);
  });

  it("names each broken rule with what is wrong", () => {
    const raw = devLikeConfig();
    raw.models.push({ ...raw.models[0]!, name: "Again" });
    raw.tiers.pro!.priority = 0;
    raw.tiers.default!.models = [MODEL_NOVA_LITE, "eu.amazon.nova-micro-v1:0"];
    raw.fallbackModels = ["amazon.titan-text-express-v1"];
    raw.cache = { prepared: [{ prompt: "Hi", response: "Hello", modelId: "meta.llama3-8b-instruct-v1:0" }] };
    expect(problemsOf(raw)).toEqual([
      `ai-gateway:models.3.id: duplicate model id "${MODEL_NOVA_LITE}"`,
      "ai-gateway:models: at most one model may set default: true",
      'ai-gateway:tiers.default.models.1: "eu.amazon.nova-micro-v1:0" is not in the models allowlist',
      'ai-gateway:tiers.pro.priority: same priority as tier "default"; priorities must differ',
      'ai-gateway:fallbackModels.0: "amazon.titan-text-express-v1" is not in the models allowlist',
      'ai-gateway:cache.prepared.0.modelId: "meta.llama3-8b-instruct-v1:0" is not in the models allowlist',
    ]);
  });

  it("requires a tier named default, saying why", () => {
    const { default: _default, ...others } = devLikeConfig().tiers;
    expect(problemsOf({ ...devLikeConfig(), tiers: others })).toEqual(['ai-gateway:tiers: a tier named "default" is required (users in no tier group get it)']);
  });
});
