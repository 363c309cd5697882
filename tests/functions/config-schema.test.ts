import { describe, expect, it } from "vitest";
import { ConfigError, defaultModel, gatewayConfigFromPulumi, parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { devLikeConfig, MODEL_NOVA_LITE, prodLikeConfig, problemsOf } from "../support/config-fixtures.js";


describe("stack config schema", () => {
  it("accepts a dev-like config and fills in every default", () => {
    const config = parseGatewayConfig(devLikeConfig(), { region: "us-east-1" });
    expect(config.maxInputChars).toBe(8000);
    expect(config.history).toEqual({ maxTurns: 20, ttlDays: 30 });
    expect(config.observability).toMatchObject({ logRetentionDays: 14, logPreviews: false, metricsNamespace: "AiGateway" });
    expect(config.models[1]!.default).toBe(false);
    expect(defaultModel(config).id).toBe(MODEL_NOVA_LITE);
  });

  it("accepts a prod-like config", () => {
    const config = parseGatewayConfig(prodLikeConfig(), { region: "us-west-2" });
    expect(config.identity.mfa).toBe("ON");
    expect(config.protection.pointInTimeRecovery).toBe(true);
  });

  it("names an unknown top-level key", () => {
    expect(problemsOf({ ...devLikeConfig(), tier: {} })).toContain("ai-gateway:tier: unknown key");
  });

  it("names an unknown nested key with its path", () => {
    const raw = devLikeConfig();
    (raw.tiers.pro as Record<string, unknown>).maxTokens = 5;
    expect(problemsOf(raw)).toContain("ai-gateway:tiers.pro.maxTokens: unknown key");
  });

  it("names a missing required key", () => {
    const { models: _models, ...raw } = devLikeConfig();
    expect(problemsOf(raw)).toContain("ai-gateway:models: required");
  });

  it("names a wrongly typed limit", () => {
    const raw = devLikeConfig();
    (raw.tiers.default!.limits.daily as Record<string, unknown>).inputTokens = "lots";
    expect(problemsOf(raw).join("\n")).toMatch(/^ai-gateway:tiers\.default\.limits\.daily\.inputTokens: .*number/m);
  });

  it("refuses a tier model outside the allowlist", () => {
    const raw = devLikeConfig();
    raw.tiers.default!.models = ["us.meta.llama3-3-70b-instruct-v1:0"];
    expect(problemsOf(raw)).toContain('ai-gateway:tiers.default.models.0: "us.meta.llama3-3-70b-instruct-v1:0" is not in the models allowlist');
  });

  it("requires a default tier", () => {
    const raw = devLikeConfig();
    delete (raw.tiers as Record<string, unknown>).default;
    expect(problemsOf(raw)).toContain('ai-gateway:tiers: a tier named "default" is required (users in no tier group get it)');
  });

  it("refuses two default models and duplicate ids", () => {
    const raw = devLikeConfig();
    raw.models[1]!.default = true;
    raw.models.push({ ...raw.models[0]!, default: false });
    const problems = problemsOf(raw);
    expect(problems).toContain("ai-gateway:models: at most one model may set default: true");
    expect(problems).toContain(`ai-gateway:models.3.id: duplicate model id "${MODEL_NOVA_LITE}"`);
  });

  it("refuses tiers that share a priority", () => {
    const raw = devLikeConfig();
    raw.tiers.pro!.priority = 0;
    expect(problemsOf(raw)).toContain('ai-gateway:tiers.pro.priority: same priority as tier "default"; priorities must differ');
  });

  it("refuses a log retention CloudWatch does not offer", () => {
    expect(problemsOf({ ...devLikeConfig(), observability: { logRetentionDays: 10 } })[0]).toMatch(
      /^ai-gateway:observability\.logRetentionDays: must be one of CloudWatch's retention values/,
    );
  });

  it("bounds maxInputChars so a message fits one AppSync event", () => {
    expect(problemsOf({ ...devLikeConfig(), maxInputChars: 500_000 })[0]).toMatch(/^ai-gateway:maxInputChars: /);
  });

  it("refuses an inference profile the stack's region cannot call", () => {
    expect(problemsOf(devLikeConfig(), "eu-west-1")).toContain(
      `ai-gateway:models.0.id: inference profile "${MODEL_NOVA_LITE}" cannot be called from region eu-west-1`,
    );
  });

  it("refuses a fallback model and a prepared answer's model outside the allowlist", () => {
    const problems = problemsOf({
      ...devLikeConfig(),
      fallbackModels: ["amazon.titan-text-lite-v1"],
      cache: { prepared: [{ prompt: "hi", response: "hello", modelId: "amazon.titan-text-lite-v1" }] },
    });
    expect(problems).toContain('ai-gateway:fallbackModels.0: "amazon.titan-text-lite-v1" is not in the models allowlist');
    expect(problems).toContain('ai-gateway:cache.prepared.0.modelId: "amazon.titan-text-lite-v1" is not in the models allowlist');
  });

  it("reads Pulumi's flattened config, structured values as JSON and plain strings as strings", () => {
    const raw = gatewayConfigFromPulumi({
      "aws:region": "us-east-1",
      "ai-gateway:models": JSON.stringify(devLikeConfig().models),
      "ai-gateway:systemPrompt": "Be brief.",
      "ai-gateway:maxInputChars": "4000",
    });
    expect(Object.keys(raw).sort()).toEqual(["maxInputChars", "models", "systemPrompt"]);
    expect(raw.systemPrompt).toBe("Be brief.");
    expect(raw.maxInputChars).toBe(4000);
  });
});

describe("config problems as an operator reads them", () => {
  it("names the namespace alone for a config that is not an object", () => {
    expect(problemsOf("text")).toEqual(["ai-gateway: Invalid input: expected object, received string"]);
  });

  it("lists several unknown keys of one object under one problem, a line each", () => {
    expect(problemsOf({ ...devLikeConfig(), extraOne: 1, extraTwo: 2 })).toEqual(["ai-gateway:extraOne: unknown key\n  - ai-gateway:extraTwo: unknown key"]);
  });

  it("says what was expected of a value of the wrong type, and the bound a number passed", () => {
    const wrongType = devLikeConfig();
    (wrongType.models[0] as Record<string, unknown>).maxOutputTokens = "many";
    expect(problemsOf(wrongType)).toEqual(["ai-gateway:models.0.maxOutputTokens: Invalid input: expected number, received string"]);
    const tooBig = devLikeConfig();
    (tooBig.models[0] as Record<string, unknown>).maxOutputTokens = 200_001;
    expect(problemsOf(tooBig)).toEqual(["ai-gateway:models.0.maxOutputTokens: Too big: expected number to be <=200000"]);
  });
});
