/**
 * Which tier a caller is in, which models that tier may use, and the bounds of a request.
 */
import { defaultModel } from "../config/parse.js";
import type { GatewayConfig, ModelConfig, TierConfig } from "../config/schema.js";
import { GatewayError } from "../protocol/errors.js";

export interface ResolvedTier {
  name: string;
  tier: TierConfig;
}

/**
 * A tier's Cognito group precedence. Cognito: lower wins; tiers: higher priority wins. The
 * schema bounds priority to 0..1000, so precedence stays non-negative.
 */
export const tierGroupPrecedence = (priority: number) => 1000 - priority;

/** The caller's tier: their group with the highest priority, else `default`. */
export function resolveTier(config: GatewayConfig, groups: readonly string[]): ResolvedTier {
  let best: ResolvedTier = { name: "default", tier: config.tiers.default! };
  for (const group of groups) {
    const tier = config.tiers[group];
    if (tier && tier.priority > best.tier.priority) best = { name: group, tier };
  }
  return best;
}

export function allowedModels(config: GatewayConfig, tier: TierConfig): ModelConfig[] {
  if (tier.models.includes("*")) return config.models;
  return config.models.filter((m) => tier.models.includes(m.id));
}

/**
 * The model a request runs on: the one it names, or the stack's default, or (when the tier may
 * not use the default) the tier's first model.
 */
export function resolveModel(config: GatewayConfig, tier: TierConfig, requested: string | undefined): ModelConfig {
  const allowed = allowedModels(config, tier);
  if (requested !== undefined) {
    const model = allowed.find((m) => m.id === requested);
    if (!model) {
      throw new GatewayError("model_not_allowed", "That model is not available on your plan.", {
        details: { modelId: requested, allowed: allowed.map((m) => m.id) },
      });
    }
    return model;
  }
  const fallback = defaultModel(config);
  return allowed.find((m) => m.id === fallback.id) ?? allowed[0]!;
}

/** The model chosen when a request names none, as the "models" answer reports it. */
export function defaultModelFor(config: GatewayConfig, tier: TierConfig): ModelConfig {
  return resolveModel(config, tier, undefined);
}

/** maxTokens for the call: what was asked, clamped to the tier and the model (never refused). */
export function boundedMaxTokens(tier: TierConfig, model: ModelConfig, requested: number | undefined): number {
  const ceiling = Math.min(tier.maxOutputTokensPerRequest, model.maxOutputTokens);
  return Math.min(requested ?? ceiling, ceiling);
}
