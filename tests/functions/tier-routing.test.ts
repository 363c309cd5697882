import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { boundedMaxTokens, resolveModel, resolveTier } from "../../functions/lib/routing/tier.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET } from "../support/config-fixtures.js";

const raw = devLikeConfig();
const config = parseGatewayConfig({
  ...raw,
  tiers: { ...raw.tiers, team: { ...raw.tiers.default!, priority: 5, models: [MODEL_NOVA_PRO], maxOutputTokensPerRequest: 3000 } },
});

describe("tier and model routing", () => {
  it.each([
    [["default", "team", "pro"]],
    [["pro", "team", "default"]],
    [["team", "pro"]],
  ])("picks the highest-priority tier whatever the group order: %j", (groups) => {
    expect(resolveTier(config, groups).name).toBe("pro");
  });

  it("ignores groups that are not tiers and falls back to default", () => {
    expect(resolveTier(config, ["admins", "beta"]).name).toBe("default");
    expect(resolveTier(config, []).name).toBe("default");
    expect(resolveTier(config, ["admins", "team"]).name).toBe("team");
  });

  it("uses the stack's default model when the tier allows it, else the tier's first model", () => {
    expect(resolveModel(config, config.tiers.default!, undefined).id).toBe(MODEL_NOVA_LITE);
    expect(resolveModel(config, config.tiers.team!, undefined).id).toBe(MODEL_NOVA_PRO);
  });

  it("refuses a model outside the tier, naming what is allowed", () => {
    expect(() => resolveModel(config, config.tiers.team!, MODEL_SONNET)).toThrow(expect.objectContaining({ code: "model_not_allowed", extra: { details: { modelId: MODEL_SONNET, allowed: [MODEL_NOVA_PRO] } } }));
  });

  it("clamps maxTokens to the tier and the model instead of refusing", () => {
    const sonnet = config.models.find((m) => m.id === MODEL_SONNET)!;
    const lite = config.models.find((m) => m.id === MODEL_NOVA_LITE)!;
    expect(boundedMaxTokens(config.tiers.pro!, sonnet, 100_000)).toBe(8192);
    expect(boundedMaxTokens(config.tiers.pro!, lite, 100_000)).toBe(5000);
    expect(boundedMaxTokens(config.tiers.default!, sonnet, undefined)).toBe(2000);
    expect(boundedMaxTokens(config.tiers.default!, sonnet, 17)).toBe(17);
  });

  it("keeps maxTokens at exactly the ceiling and clamps one above it", () => {
    const sonnet = config.models.find((m) => m.id === MODEL_SONNET)!;
    expect(boundedMaxTokens(config.tiers.default!, sonnet, 2000)).toBe(2000);
    expect(boundedMaxTokens(config.tiers.default!, sonnet, 2001)).toBe(2000);
    expect(boundedMaxTokens(config.tiers.default!, sonnet, 1999)).toBe(1999);
  });
});
