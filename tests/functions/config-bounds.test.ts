import { describe, expect, it } from "vitest";
import { ConfigError, defaultModel, inferenceProfilePrefix, parseGatewayConfig, profileServesRegion, regionPartition } from "../../functions/lib/config/parse.js";
import type { GatewayConfigInput } from "../../functions/lib/config/schema.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, problemsOf } from "../support/config-fixtures.js";

const withKey = (patch: Partial<GatewayConfigInput> | Record<string, unknown>) => ({ ...devLikeConfig(), ...patch });

describe("the defaults an operator gets for every optional section", () => {
  it("fills cache, guardrail, identity, waf, protection, worker, analytics and observability as documented", () => {
    const config = parseGatewayConfig(devLikeConfig());
    expect(config.cache).toEqual({ enabled: true, ttlDays: 7, prepared: [] });
    expect(config.guardrail).toEqual({
      enabled: false,
      contentFilterStrength: "MEDIUM",
      promptAttackFilter: true,
      maskPii: true,
      deniedTopics: [],
      blockedMessage: "Sorry, I can't help with that request.",
    });
    expect(config.identity).toEqual({ selfSignUp: false, mfa: "OPTIONAL", callbackUrls: [], logoutUrls: [], providers: {} });
    expect(config.waf).toEqual({ enabled: false, rateLimitPer5Min: 2000 });
    expect(config.protection).toEqual({ pointInTimeRecovery: false, deletionProtection: false });
    expect(config.worker).toEqual({ timeoutSeconds: 300, memoryMb: 512, reservedConcurrency: 50, maximumEventAgeSeconds: 120 });
    expect(config.analytics).toEqual({ enabled: true, retentionDays: 365 });
    expect(config.fallbackModels).toEqual([]);
    expect(config.systemPrompt).toBe("You are a helpful assistant. Answer concisely.");
    const { relay: _relay, ...withoutRelay } = devLikeConfig();
    expect(parseGatewayConfig(withoutRelay).relay).toEqual({ flushIntervalMs: 100 });
  });

  it("fills the defaults inside a section the operator wrote partly", () => {
    const config = parseGatewayConfig(withKey({ guardrail: { enabled: true }, identity: { selfSignUp: true }, cache: { enabled: false }, relay: {} }));
    expect(config.guardrail).toMatchObject({ enabled: true, contentFilterStrength: "MEDIUM", deniedTopics: [] });
    expect(config.identity).toMatchObject({ selfSignUp: true, mfa: "OPTIONAL" });
    expect(config.cache).toEqual({ enabled: false, ttlDays: 7, prepared: [] });
    expect(config.relay).toEqual({ flushIntervalMs: 100 });
  });

  it("takes the model marked default, else the first", () => {
    expect(defaultModel(parseGatewayConfig(devLikeConfig())).id).toBe(MODEL_NOVA_LITE);
    const raw = devLikeConfig();
    raw.models = raw.models.map((m) => ({ ...m, default: m.id === MODEL_NOVA_PRO }));
    expect(defaultModel(parseGatewayConfig(raw)).id).toBe(MODEL_NOVA_PRO);
    raw.models = raw.models.map((m) => ({ ...m, default: false }));
    expect(defaultModel(parseGatewayConfig(raw)).id).toBe(MODEL_NOVA_LITE);
  });
});

describe("cross-field rules, each named at its key path", () => {
  it("names duplicate ids, two defaults, a missing default tier and equal priorities", () => {
    const raw = devLikeConfig();
    raw.models.push({ ...raw.models[1]!, default: true });
    expect(problemsOf(raw)).toEqual([
      `ai-gateway:models.3.id: duplicate model id "${MODEL_NOVA_PRO}"`,
      "ai-gateway:models: at most one model may set default: true",
    ]);
    const { default: _gone, ...tiers } = devLikeConfig().tiers;
    expect(problemsOf(withKey({ tiers }))).toEqual(['ai-gateway:tiers: a tier named "default" is required (users in no tier group get it)']);
    const same = devLikeConfig();
    same.tiers.pro!.priority = 0;
    expect(problemsOf(same)).toEqual(['ai-gateway:tiers.pro.priority: same priority as tier "default"; priorities must differ']);
  });

  it("names tier, fallback and prepared-answer models outside the allowlist", () => {
    const raw = devLikeConfig();
    raw.tiers.default!.models = [MODEL_NOVA_LITE, "us.amazon.nova-micro-v1:0"];
    expect(problemsOf({ ...raw, fallbackModels: [MODEL_NOVA_PRO, "amazon.titan-text-v1"], cache: { prepared: [{ prompt: "hi", response: "hello", modelId: "x.y" }, { prompt: "a", response: "b" }] } })).toEqual([
      'ai-gateway:tiers.default.models.1: "us.amazon.nova-micro-v1:0" is not in the models allowlist',
      'ai-gateway:fallbackModels.1: "amazon.titan-text-v1" is not in the models allowlist',
      'ai-gateway:cache.prepared.0.modelId: "x.y" is not in the models allowlist',
    ]);
  });

  it("names a tier whose per-request output cap no model reaches", () => {
    const raw = devLikeConfig();
    raw.tiers.pro!.maxOutputTokensPerRequest = 8193;
    expect(problemsOf(raw)).toEqual(["ai-gateway:tiers.pro.maxOutputTokensPerRequest: exceeds every model's maxOutputTokens (8192)"]);
  });

  it("names an OIDC and a SAML provider sharing a name, whatever their case", () => {
    const providers = { oidc: { name: "Corp-IdP", issuer: "https://idp.example.com", clientId: "c", clientSecret: "s" }, saml: { name: "corp-idp", metadataUrl: "https://idp.example.com/m" } };
    expect(problemsOf(withKey({ identity: { providers } }))).toEqual([
      'ai-gateway:identity.providers.saml.name: same name as identity.providers.oidc.name ("Corp-IdP"); provider names must differ',
    ]);
  });

  it("writes every problem on its own line of one error, named ConfigError", () => {
    try {
      parseGatewayConfig(withKey({ maxInputChars: 0, systemPrompt: 5 }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).name).toBe("ConfigError");
      expect((error as Error).message).toMatch(/^Invalid stack configuration:\n {2}- ai-gateway:\S+: .+\n {2}- ai-gateway:\S+: .+$/);
    }
  });
});

describe("bounds and formats", () => {
  it("refuses ids, tier names and domain prefixes with text around the allowed form", () => {
    const raw = devLikeConfig();
    raw.models[2] = { ...raw.models[2]!, id: ` ${raw.models[2]!.id}` };
    expect(problemsOf(raw)).toContain("ai-gateway:models.2.id: must be a Bedrock model or inference-profile id");
    const trailing = devLikeConfig();
    trailing.models[2] = { ...trailing.models[2]!, id: `${trailing.models[2]!.id} ` };
    expect(problemsOf(trailing)).toContain("ai-gateway:models.2.id: must be a Bedrock model or inference-profile id");
    for (const name of ["Apro", "pro!"]) expect(problemsOf(withKey({ tiers: { ...devLikeConfig().tiers, [name]: { ...devLikeConfig().tiers.pro, priority: 99 } } }))).toHaveLength(1);
    const badTier = { ...devLikeConfig().tiers, "Pro!": devLikeConfig().tiers.pro };
    expect(problemsOf(withKey({ tiers: badTier }))[0]).toMatch(/^ai-gateway:tiers\.Pro!: tier names are lowercase letters, digits and '-'/);
    for (const domainPrefix of ["-chat", "chat-", "Chat", "a".repeat(64)]) expect(problemsOf(withKey({ identity: { domainPrefix } }))).toHaveLength(1);
    for (const domainPrefix of ["c", "chat-ui", "a".repeat(63)]) expect(problemsOf(withKey({ identity: { domainPrefix } }))).toEqual([]);
  });

  it("accepts an SES identity ARN only in full", () => {
    const arn = "arn:aws:ses:eu-west-1:123456789012:identity/example.com";
    expect(problemsOf(withKey({ identity: { sesSourceArn: arn } }))).toEqual([]);
    expect(problemsOf(withKey({ identity: { sesSourceArn: "arn:aws-us-gov:ses:us-gov-west-12:123456789012:identity/a@b.c" } }))).toEqual([]);
    for (const bad of [`x${arn}`, `${arn}/more`, "arn:aws:ses:eu-west-:123456789012:identity/example.com"]) {
      expect(problemsOf(withKey({ identity: { sesSourceArn: bad } }))[0]).toMatch(/^ai-gateway:identity\.sesSourceArn: expected a verified SES identity's ARN/);
    }
  });

  it("accepts a Graph API version only as vN.N", () => {
    const facebook = (apiVersion: string) => withKey({ identity: { providers: { facebook: { clientId: "c", clientSecret: "s", apiVersion } } } });
    expect(problemsOf(facebook("v17.0"))).toEqual([]);
    expect(problemsOf(facebook("v170.12"))).toEqual([]);
    for (const bad of ["17.0", "v17", "xv17.0", "v17.0x", "vx.0", "v1.x"]) {
      expect(problemsOf(facebook(bad))).toEqual(['ai-gateway:identity.providers.facebook.apiVersion: expected a Graph API version such as "v17.0"']);
    }
  });

  it("wants provider client ids and secrets that are not empty, and longer ones are fine", () => {
    for (const name of ["google", "amazon", "facebook"]) {
      expect(problemsOf(withKey({ identity: { providers: { [name]: { clientId: "", clientSecret: "s" } } } }))).toHaveLength(1);
      expect(problemsOf(withKey({ identity: { providers: { [name]: { clientId: "client-id", clientSecret: "" } } } }))).toHaveLength(1);
      expect(problemsOf(withKey({ identity: { providers: { [name]: { clientId: "client-id", clientSecret: "secret" } } } }))).toEqual([]);
    }
    expect(problemsOf(withKey({ identity: { providers: { oidc: { name: "Corp", issuer: "https://i.example.com", clientId: "client-id", clientSecret: "" } } } }))).toHaveLength(1);
  });

  it("names the reserved provider names", () => {
    expect(problemsOf(withKey({ identity: { providers: { saml: { name: "google", metadataUrl: "https://i.example.com/m" } } } }))).toEqual([
      "ai-gateway:identity.providers.saml.name: must not be one of the names Cognito reserves (Cognito, Google, Facebook, LoginWithAmazon, SignInWithApple)",
    ]);
    for (const name of ["Cognito", "Facebook", "LoginWithAmazon", "SignInWithApple"]) {
      expect(problemsOf(withKey({ identity: { providers: { saml: { name, metadataUrl: "https://i.example.com/m" } } } }))).toHaveLength(1);
    }
  });

  it("holds text and number settings to their ranges, accepting the bounds themselves", () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ cache: { prepared: [{ prompt: "p".repeat(2000), response: "r".repeat(100_000) }] } }, true],
      [{ cache: { prepared: [{ prompt: "p".repeat(2001), response: "r" }] } }, false],
      [{ cache: { prepared: [{ prompt: "p", response: "r".repeat(100_001) }] } }, false],
      [{ cache: { prepared: [{ prompt: "", response: "r" }] } }, false],
      [{ cache: { ttlDays: 3650 } }, true],
      [{ cache: { ttlDays: 3651 } }, false],
      [{ history: { ttlDays: 3650 } }, true],
      [{ history: { ttlDays: 3651 } }, false],
      [{ systemPrompt: "s".repeat(20_000) }, true],
      [{ systemPrompt: "s".repeat(20_001) }, false],
      [{ analytics: { retentionDays: 3650 } }, true],
      [{ analytics: { retentionDays: 3651 } }, false],
      [{ guardrail: { deniedTopics: [{ name: "n".repeat(100), definition: "d".repeat(200) }], blockedMessage: "b".repeat(500) } }, true],
      [{ guardrail: { deniedTopics: [{ name: "n".repeat(101), definition: "d" }] } }, false],
      [{ guardrail: { deniedTopics: [{ name: "n", definition: "d".repeat(201) }] } }, false],
      [{ guardrail: { blockedMessage: "b".repeat(501) } }, false],
      [{ guardrail: { contentFilterStrength: "LOW" } }, true],
      [{ guardrail: { contentFilterStrength: "HIGH" } }, true],
      [{ guardrail: { contentFilterStrength: "NONE" } }, false],
      [{ identity: { mfa: "OFF" } }, true],
      [{ identity: { mfa: "OPTIONAL" } }, true],
      [{ guardrail: { contentFilterStrength: "MEDIUM" } }, true],
      [{ identity: { mfa: "ON" } }, true],
    ];
    for (const [patch, ok] of cases) expect(problemsOf(withKey(patch)).length === 0, JSON.stringify(patch).slice(0, 80)).toBe(ok);
  });

  it("holds model prices and context windows to their ranges", () => {
    const model = (extra: Record<string, unknown>) => {
      const raw = devLikeConfig();
      raw.models[0] = { ...raw.models[0]!, ...extra } as (typeof raw.models)[0];
      return problemsOf(raw);
    };
    expect(model({ pricing: { inputPerMillionTokens: 10_000, outputPerMillionTokens: 0.06 } })).toEqual([]);
    expect(model({ pricing: { inputPerMillionTokens: 0.06, outputPerMillionTokens: 10_000.01 } })).toHaveLength(1);
    expect(model({ pricing: { inputPerMillionTokens: 10_001, outputPerMillionTokens: 1 } })).toHaveLength(1);
    expect(model({ contextTokens: 1000 })).toEqual([]);
    expect(model({ contextTokens: 10_000_000 })).toEqual([]);
    expect(model({ contextTokens: 999 })).toHaveLength(1);
    expect(model({ contextTokens: 10_000_001 })).toHaveLength(1);
  });

  it("lists CloudWatch's retention values when refusing another", () => {
    expect(problemsOf(withKey({ observability: { logRetentionDays: 15 } }))[0]).toMatch(/^ai-gateway:observability\.logRetentionDays: must be one of CloudWatch's retention values: 1, 3, 5, 7, 14,/);
  });
});

describe("regions and inference profiles", () => {
  it("routes each geography's profiles only within it", () => {
    const table: [string, string, boolean][] = [
      ["us", "us-east-1", true], ["us", "us-gov-west-1", false], ["us", "eu-west-1", false],
      ["us-gov", "us-gov-east-1", true], ["us-gov", "us-east-1", false],
      ["eu", "eu-central-1", true], ["eu", "us-east-1", false],
      ["apac", "ap-south-1", true], ["apac", "eu-west-1", false],
      ["jp", "ap-northeast-1", true], ["jp", "ap-northeast-3", true], ["jp", "ap-northeast-2", false],
      ["au", "ap-southeast-2", true], ["au", "ap-southeast-4", true], ["au", "ap-southeast-1", false],
      ["ca", "ca-central-1", true], ["ca", "us-east-1", false],
      ["global", "sa-east-1", true], ["mars", "us-east-1", false],
    ];
    for (const [prefix, region, serves] of table) expect(profileServesRegion(prefix, region), `${prefix} in ${region}`).toBe(serves);
  });

  it("reads a profile prefix only from a known geography followed by a model id", () => {
    expect(inferenceProfilePrefix("eu.amazon.nova-lite-v1:0")).toBe("eu");
    expect(inferenceProfilePrefix("amazon.nova-lite-v1:0")).toBeUndefined();
    expect(inferenceProfilePrefix("eu.nova")).toBeUndefined();
    expect(inferenceProfilePrefix("xx.amazon.nova-lite-v1:0")).toBeUndefined();
  });

  it("names each region's partition", () => {
    const table: [string, string][] = [
      ["cn-north-1", "aws-cn"], ["us-gov-west-1", "aws-us-gov"], ["us-isof-south-1", "aws-iso-f"], ["eu-isof-north-1", "aws-iso-f"],
      ["us-isob-east-1", "aws-iso-b"], ["us-iso-east-1", "aws-iso"], ["eu-isoe-west-1", "aws-iso-e"], ["eusc-de-east-1", "aws-eusc"], ["eu-west-1", "aws"],
    ];
    for (const [region, partition] of table) expect(regionPartition(region), region).toBe(partition);
  });
});
