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
