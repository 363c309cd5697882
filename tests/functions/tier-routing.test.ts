import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { allowedModels, boundedMaxTokens, defaultModelFor, resolveModel, resolveTier, tierGroupPrecedence } from "../../functions/lib/routing/tier.js";
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

  it("runs a request on the model it names when the tier allows it", () => {
    expect(resolveModel(config, config.tiers.default!, MODEL_NOVA_PRO).id).toBe(MODEL_NOVA_PRO);
    expect(resolveModel(config, config.tiers.team!, MODEL_NOVA_PRO).id).toBe(MODEL_NOVA_PRO);
  });

  it("gives a tier listing \"*\" every model of the stack, in the stack's order", () => {
    expect(config.tiers.pro!.models).toEqual(["*"]);
    expect(allowedModels(config, config.tiers.pro!).map((m) => m.id)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET]);
    expect(resolveModel(config, config.tiers.pro!, MODEL_SONNET).id).toBe(MODEL_SONNET);
  });

  it("finds the stack's default model wherever it stands in the models list", () => {
    const reordered = parseGatewayConfig({ ...raw, models: [raw.models[1]!, raw.models[0]!, raw.models[2]!] });
    expect(reordered.models.map((m) => m.id)).toEqual([MODEL_NOVA_PRO, MODEL_NOVA_LITE, MODEL_SONNET]);
    expect(resolveModel(reordered, reordered.tiers.default!, undefined).id).toBe(MODEL_NOVA_LITE);
    expect(defaultModelFor(reordered, reordered.tiers.default!).id).toBe(MODEL_NOVA_LITE);
    expect(defaultModelFor(config, config.tiers.team!).id).toBe(MODEL_NOVA_PRO);
  });

  it("maps tier priority to Cognito group precedence so that the higher priority wins there too", () => {
    expect(tierGroupPrecedence(0)).toBe(1000);
    expect(tierGroupPrecedence(1000)).toBe(0);
    expect(tierGroupPrecedence(5)).toBeGreaterThan(tierGroupPrecedence(config.tiers.pro!.priority));
  });

  it("refuses a model outside the tier, naming what is allowed", () => {
    expect(() => resolveModel(config, config.tiers.team!, MODEL_SONNET)).toThrow(expect.objectContaining({ code: "model_not_allowed", message: "That model is not available on your plan.", extra: { details: { modelId: MODEL_SONNET, allowed: [MODEL_NOVA_PRO] } } }));
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
