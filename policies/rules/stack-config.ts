/**
 * Stack policies over the gateway's own config (read from the functions' code archives):
 * tiers only offer allowlisted models, every tier is metered, and the worker is watched.
 */
import type { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { bundledConfigs, BUNDLED_CONFIG_FILE, type FoundConfig } from "../support/bundled-config";
import { asArray, isRecord, withRemedy } from "../support/values";

type Report = (message: string, urn?: string) => void;

/**
 * Runs `check` on each bundled config. Readable archives without the config are a violation;
 * archives the engine handed over without readable contents make the policy not applicable
 * (a mandatory violation there would block every CI preview over something it cannot see).
 */
async function eachBundledConfig(args: StackValidationArgs, report: Report, check: (found: FoundConfig, urn: string) => void) {
  const { configs, readableArchives } = await bundledConfigs(args.resources);
  if (!readableArchives) {
    args.notApplicable(`no Lambda code archive has readable contents here, so ${BUNDLED_CONFIG_FILE} cannot be checked; \`npm run policy\` checks it over the mocked stacks`);
  }
  if (!configs.length) {
    report(withRemedy(`no Lambda code archive carries ${BUNDLED_CONFIG_FILE}, so the tier configuration cannot be checked`, "bundle the validated stack config beside each function (components/lib/bundle.ts)"));
  }
  for (const found of configs) check(found, found.functions[0]!.urn);
}

export interface TierModelsConfig {
  allowedModelIds: string[];
}

export const tierModelsWithinAllowlist: StackValidationPolicy = {
  name: "tier-models-within-allowlist",
  description: "Every model the stack offers is approved, and every tier offers only models from the stack's allowlist (ai-gateway:models).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Edit ai-gateway:tiers.<tier>.models to use ids from ai-gateway:models (or \"*\"); add a new model to ai-gateway:models and to allowedModelIds together.",
  configSchema: {
    properties: {
      allowedModelIds: { type: "array", items: { type: "string" }, description: "Bedrock model and inference-profile ids approved for this stack." },
    },
    required: ["allowedModelIds"],
  },
  validateStack: async (args, reportViolation) => {
    const { allowedModelIds } = args.getConfig<TierModelsConfig>();
    await eachBundledConfig(args, reportViolation, ({ config }, urn) => {
      const stackModels = asArray(config.models).map((m) => (isRecord(m) ? m.id : undefined)).filter((id): id is string => typeof id === "string");
      for (const id of stackModels.filter((id) => !allowedModelIds.includes(id))) {
        reportViolation(withRemedy(`ai-gateway:models offers "${id}", which is not an approved model`, "remove it or approve it in allowedModelIds"), urn);
      }
      for (const [tier, settings] of Object.entries(config.tiers ?? {})) {
        const models = asArray(isRecord(settings) ? settings.models : undefined);
        if (!models.length) reportViolation(withRemedy(`tier "${tier}" lists no models`, 'list model ids or "*"'), urn);
        for (const id of models.filter((m) => m !== "*" && !stackModels.includes(m as string))) {
          reportViolation(withRemedy(`tier "${tier}" offers "${String(id)}", which is not in ai-gateway:models`, "use an allowlisted id"), urn);
        }
      }
    });
  },
};

const LIMIT_KEYS = ["inputTokens", "outputTokens"] as const;

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

export const tierLimitsSet: StackValidationPolicy = {
  name: "tier-limits-set",
  description: "Every tier sets daily and monthly input and output token limits (monthly at least daily), a per-request output cap and a concurrency cap.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set ai-gateway:tiers.<tier>.limits.{daily,monthly}.{inputTokens,outputTokens}, maxOutputTokensPerRequest and maxConcurrentRequests.",
  validateStack: async (args, reportViolation) => {
    await eachBundledConfig(args, reportViolation, ({ config }, urn) => {
      const tiers = Object.entries(config.tiers ?? {});
      if (!tiers.length) reportViolation(withRemedy("the stack config defines no tiers", "define at least the default tier"), urn);
      for (const [tier, settings] of tiers) {
        const limits = isRecord(settings.limits) ? settings.limits : {};
        for (const window of ["daily", "monthly"] as const) {
          const w = isRecord(limits[window]) ? limits[window] : {};
          for (const key of LIMIT_KEYS.filter((k) => !isCount(w[k]))) {
            reportViolation(withRemedy(`tier "${tier}" sets no ${window} ${key} limit`, `set ai-gateway:tiers.${tier}.limits.${window}.${key}`), urn);
          }
        }
        const daily = isRecord(limits.daily) ? limits.daily : {};
        const monthly = isRecord(limits.monthly) ? limits.monthly : {};
        for (const key of LIMIT_KEYS.filter((k) => isCount(daily[k]) && isCount(monthly[k]) && monthly[k] < daily[k])) {
          reportViolation(withRemedy(`tier "${tier}" allows more ${key} per day (${daily[key]}) than per month (${monthly[key]})`, "raise the monthly limit or lower the daily one"), urn);
        }
        for (const key of ["maxOutputTokensPerRequest", "maxConcurrentRequests"] as const) {
          if (!isCount(settings[key]) || settings[key] === 0) {
            reportViolation(withRemedy(`tier "${tier}" sets no ${key}`, `set ai-gateway:tiers.${tier}.${key}`), urn);
          }
        }
      }
    });
  },
};

export const stackConfigPolicies = [tierModelsWithinAllowlist, tierLimitsSet];
