import { describe, expect, it } from "vitest";
import { codeArchive, GATEWAY_CONFIG, lambdaFunction, outcome, violations, withInputs } from "./fixtures.js";

/** The stack with the worker's bundled config replaced. */
const bundling = (config: unknown) => withInputs("worker-function", { code: codeArchive(config) });

describe("tier-models-within-allowlist", () => {
  it("passes tiers that offer allowlisted models and *", async () => {
    expect(await violations("tier-models-within-allowlist", bundling(GATEWAY_CONFIG))).toEqual([]);
  });

  it("refuses a tier offering a model outside ai-gateway:models", async () => {
    const config = { ...GATEWAY_CONFIG, tiers: { ...GATEWAY_CONFIG.tiers, default: { ...GATEWAY_CONFIG.tiers.default, models: ["us.amazon.nova-premier-v1:0"] } } };
    expect(await violations("tier-models-within-allowlist", bundling(config))).toEqual([
      expect.stringContaining('tier "default" offers "us.amazon.nova-premier-v1:0", which is not in ai-gateway:models'),
    ]);
  });

  it("refuses a stack model the organisation has not approved", async () => {
    const config = { ...GATEWAY_CONFIG, models: [...GATEWAY_CONFIG.models, { id: "deepseek.r1-v1:0", name: "R1", provider: "DeepSeek" }] };
    expect(await violations("tier-models-within-allowlist", bundling(config))).toEqual([expect.stringContaining('ai-gateway:models offers "deepseek.r1-v1:0", which is not an approved model')]);
  });

  it("is not applicable, not failing, when no code archive has readable contents (assets known only by hash)", async () => {
    const stack = withInputs("worker-function", { code: { assets: { "index.mjs": { hash: "a1" }, "gateway-config.json": { hash: "b2" } } } });
    const result = await outcome("tier-models-within-allowlist", stack);
    expect(result.violations).toEqual([]);
    expect(result.notApplicable).toContain("no Lambda code archive has readable contents here, so gateway-config.json cannot be checked");
  });

  it("still checks the config when one archive is readable and another is not", async () => {
    const stack = [...bundling({ ...GATEWAY_CONFIG, models: [...GATEWAY_CONFIG.models, { id: "deepseek.r1-v1:0" }] }), lambdaFunction("zipped", { code: { path: "/nonexistent/bundle.zip" } })];
    const result = await outcome("tier-models-within-allowlist", stack);
    expect(result.notApplicable).toBeUndefined();
    expect(result.violations.map((v) => v.message)).toEqual([expect.stringContaining('ai-gateway:models offers "deepseek.r1-v1:0", which is not an approved model')]);
  });

  it("reports a config problem on the function whose archive carries that config", async () => {
    const result = await outcome("tier-models-within-allowlist", bundling({ ...GATEWAY_CONFIG, models: [...GATEWAY_CONFIG.models, { id: "deepseek.r1-v1:0" }] }));
    expect(result.violations.map((v) => v.urn)).toEqual(["urn:pulumi:test::ai-gateway::aws:lambda/function:Function::worker-function"]);
  });

  it("refuses to run without the organisation's allowlist rather than approve every model", async () => {
    await expect(outcome("tier-models-within-allowlist", bundling(GATEWAY_CONFIG), {})).rejects.toThrow('policy tier-models-within-allowlist needs "allowedModelIds" in its config');
  });

  it("refuses a stack whose functions carry no bundled config", async () => {
    const stack = withInputs("worker-function", { code: { assets: { "index.mjs": { text: "x" } } } });
    expect(await violations("tier-models-within-allowlist", stack)).toEqual([expect.stringContaining("no Lambda code archive carries gateway-config.json")]);
  });
});

describe("tier-limits-set", () => {
  const withTier = (tier: Record<string, unknown>) => bundling({ ...GATEWAY_CONFIG, tiers: { ...GATEWAY_CONFIG.tiers, pro: tier } });

  it("refuses a tier with a missing limit and no concurrency cap", async () => {
    const pro = { ...GATEWAY_CONFIG.tiers.pro, limits: { daily: GATEWAY_CONFIG.tiers.pro.limits.daily, monthly: { inputTokens: 50000 } }, maxConcurrentRequests: undefined };
    expect(await violations("tier-limits-set", withTier(pro))).toEqual([
      expect.stringContaining('tier "pro" sets no monthly outputTokens limit. To fix: set ai-gateway:tiers.pro.limits.monthly.outputTokens'),
      expect.stringContaining('tier "pro" sets no maxConcurrentRequests'),
    ]);
  });

  it("refuses a daily limit above the monthly one", async () => {
    const pro = { ...GATEWAY_CONFIG.tiers.pro, limits: { daily: { inputTokens: 60000, outputTokens: 8000 }, monthly: GATEWAY_CONFIG.tiers.pro.limits.monthly } };
    expect(await violations("tier-limits-set", withTier(pro))).toEqual([expect.stringContaining('tier "pro" allows more inputTokens per day (60000) than per month (50000)')]);
  });

  it("is not applicable when the engine hands over a zip or remote archive it cannot read", async () => {
    const stack = withInputs("worker-function", { code: { uri: "https://example.com/bundle.zip" } });
    const result = await outcome("tier-limits-set", stack);
    expect(result).toEqual(expect.objectContaining({ violations: [], notApplicable: expect.stringContaining("cannot be checked") }));
  });

  it("still refuses readable archives that lack the config", async () => {
    const stack = withInputs("worker-function", { code: { assets: { "index.mjs": { text: "x" } } } });
    expect(await violations("tier-limits-set", stack)).toEqual([expect.stringContaining("no Lambda code archive carries gateway-config.json, so the tier configuration cannot be checked")]);
  });
});

describe("stack config policies, case by case", () => {
  const withTiers = (tiers: Record<string, unknown>) => bundling({ ...GATEWAY_CONFIG, tiers });
  const pro = GATEWAY_CONFIG.tiers.pro;

  it("reads model ids only from model entries that have one", async () => {
    const config = { ...GATEWAY_CONFIG, models: [...GATEWAY_CONFIG.models, "us.amazon.nova-lite-v1:0", { name: "no id" }] };
    const tiers = { ...GATEWAY_CONFIG.tiers, pro: { ...pro, models: ["us.amazon.nova-lite-v1:0"] } };
    expect(await violations("tier-models-within-allowlist", bundling({ ...config, tiers }))).toEqual([]);
    expect(await violations("tier-models-within-allowlist", bundling({ ...config, models: ["us.amazon.nova-lite-v1:0"], tiers }))).toEqual([
      'tier "default" offers "us.amazon.nova-lite-v1:0", which is not in ai-gateway:models. To fix: use an allowlisted id',
      'tier "pro" offers "us.amazon.nova-lite-v1:0", which is not in ai-gateway:models. To fix: use an allowlisted id',
    ]);
  });

  it("refuses a tier that lists no models", async () => {
    expect(await violations("tier-models-within-allowlist", withTiers({ ...GATEWAY_CONFIG.tiers, pro: { ...pro, models: [] } }))).toEqual([
      'tier "pro" lists no models. To fix: list model ids or "*"',
    ]);
  });

  it("refuses a config without tiers", async () => {
    expect(await violations("tier-limits-set", withTiers({}))).toEqual(["the stack config defines no tiers. To fix: define at least the default tier"]);
  });

  it("counts zero as a limit but not a negative or fractional number, and caps must be above zero", async () => {
    const limits = { daily: { inputTokens: 0, outputTokens: -1 }, monthly: { inputTokens: 1.5, outputTokens: 100 } };
    expect(await violations("tier-limits-set", withTiers({ pro: { ...pro, limits, maxOutputTokensPerRequest: 0 } }))).toEqual([
      'tier "pro" sets no daily outputTokens limit. To fix: set ai-gateway:tiers.pro.limits.daily.outputTokens',
      'tier "pro" sets no monthly inputTokens limit. To fix: set ai-gateway:tiers.pro.limits.monthly.inputTokens',
      'tier "pro" sets no maxOutputTokensPerRequest. To fix: set ai-gateway:tiers.pro.maxOutputTokensPerRequest',
    ]);
  });

  it("compares daily with monthly only where both are set", async () => {
    const limits = { daily: { inputTokens: 500, outputTokens: 900 }, monthly: { inputTokens: "400", outputTokens: 900 } };
    expect(await violations("tier-limits-set", withTiers({ pro: { ...pro, limits } }))).toEqual([
      'tier "pro" sets no monthly inputTokens limit. To fix: set ai-gateway:tiers.pro.limits.monthly.inputTokens',
    ]);
  });
});
