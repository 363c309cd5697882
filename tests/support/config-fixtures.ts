/** Stack configs as operators write them (raw, before defaults), for tests. */
import { ConfigError, parseGatewayConfig } from "../../functions/lib/config/parse.js";
import type { GatewayConfigInput } from "../../functions/lib/config/schema.js";

export const MODEL_NOVA_LITE = "us.amazon.nova-lite-v1:0";
export const MODEL_NOVA_PRO = "us.amazon.nova-pro-v1:0";
export const MODEL_SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0";

export function devLikeConfig(): GatewayConfigInput {
  return {
    models: [
      { id: MODEL_NOVA_LITE, name: "Amazon Nova Lite", provider: "Amazon", maxOutputTokens: 5000, default: true },
      { id: MODEL_NOVA_PRO, name: "Amazon Nova Pro", provider: "Amazon", maxOutputTokens: 5000 },
      { id: MODEL_SONNET, name: "Claude Sonnet 4", provider: "Anthropic", maxOutputTokens: 8192 },
    ],
    tiers: {
      default: {
        priority: 0,
        models: [MODEL_NOVA_LITE, MODEL_NOVA_PRO],
        limits: { daily: { inputTokens: 10_000, outputTokens: 20_000 }, monthly: { inputTokens: 100_000, outputTokens: 200_000 } },
        maxOutputTokensPerRequest: 2000,
        maxConcurrentRequests: 2,
      },
      pro: {
        priority: 10,
        models: ["*"],
        limits: { daily: { inputTokens: 100_000, outputTokens: 200_000 }, monthly: { inputTokens: 1_000_000, outputTokens: 2_000_000 } },
        maxOutputTokensPerRequest: 8192,
        maxConcurrentRequests: 5,
        requestsPerMinute: 60,
      },
    },
    relay: { flushIntervalMs: 100 },
  };
}

export function prodLikeConfig(): GatewayConfigInput {
  return {
    ...devLikeConfig(),
    observability: { logRetentionDays: 365, alarmEmail: "ops@example.com", logPreviews: false },
    identity: { selfSignUp: false, mfa: "ON" },
    waf: { enabled: true, rateLimitPer5Min: 1000 },
    guardrail: { enabled: true },
    protection: { pointInTimeRecovery: true, deletionProtection: true },
  };
}

/** What `parseGatewayConfig` refuses in `raw`, one line per problem (key path and rule); [] when accepted. */
export function problemsOf(raw: unknown, region?: string): string[] {
  try {
    parseGatewayConfig(raw, { region });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/** `base` (dev-like by default) with `value` set at a dotted key path, intermediate objects created. */
export function withValue(path: string, value: unknown, base: GatewayConfigInput = devLikeConfig()): GatewayConfigInput {
  const raw = structuredClone(base) as Record<string, any>;
  const keys = path.split(".");
  let target = raw;
  for (const key of keys.slice(0, -1)) target = target[key] ??= {};
  target[keys.at(-1)!] = value;
  return raw as GatewayConfigInput;
}
