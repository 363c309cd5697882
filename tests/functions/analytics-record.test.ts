/**
 * The analytics record and its config: prices and retention in the stack config, the record
 * built from a turn's facts (tokens, cost, previews), and metrics that never throw at a turn.
 */
import { describe, expect, it } from "vitest";
import { buildTurnRecord, estimateCostUsd, type TurnFacts } from "../../functions/lib/analytics/record.js";
import { ConfigError, parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { METRIC, MetricUnit, ModelMetrics } from "../../functions/lib/observability/metrics.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO } from "../support/config-fixtures.js";

function problemsOf(raw: unknown): string[] {
  try {
    parseGatewayConfig(raw, { region: "us-east-1" });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected the config to be rejected");
}

function configWithPrices() {
  const raw = devLikeConfig();
  raw.models = raw.models.map((m) => (m.id === MODEL_NOVA_LITE ? { ...m, pricing: { inputPerMillionTokens: 0.06, outputPerMillionTokens: 0.24 } } : m));
  return parseGatewayConfig(raw, { region: "us-east-1" });
}

function facts(overrides: Partial<TurnFacts> = {}): TurnFacts {
  return {
    requestId: "r",
    userId: "u",
    conversationId: "c",
    tier: "default",
    startedAt: 1_780_000_000_000,
    modelId: MODEL_NOVA_LITE,
    answerStarted: true,
    cached: false,
    ending: { kind: "done", stopReason: "end_turn", usage: { inputTokens: 1_000, outputTokens: 2_000 }, latencyMs: { firstToken: 120.4, total: 900.6 } },
    observedMs: { firstToken: 130, total: 950 },
    prompt: "p".repeat(200),
    answerStart: "a".repeat(100),
    ...overrides,
  };
}

describe("analytics config", () => {
  it("defaults to analytics on, records kept 365 days, and no prices", () => {
    const config = parseGatewayConfig(devLikeConfig(), { region: "us-east-1" });
    expect(config.analytics).toEqual({ enabled: true, retentionDays: 365 });
    expect(config.models.every((m) => m.pricing === undefined)).toBe(true);
  });

  it("rejects negative or partial prices and out-of-range retention, naming the key path", () => {
    const raw = devLikeConfig();
    raw.models[0] = { ...raw.models[0]!, pricing: { inputPerMillionTokens: -1, outputPerMillionTokens: 1 } };
    raw.models[1] = { ...raw.models[1]!, pricing: { inputPerMillionTokens: 1 } as never };
    const problems = problemsOf({ ...raw, analytics: { retentionDays: 0 } });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("models.0.pricing.inputPerMillionTokens"),
        expect.stringContaining("models.1.pricing.outputPerMillionTokens"),
        expect.stringContaining("analytics.retentionDays"),
      ]),
    );
  });
});

describe("the turn record", () => {
  it("estimates cost from the model's USD prices per million tokens", () => {
    expect(estimateCostUsd({ inputPerMillionTokens: 3, outputPerMillionTokens: 15 }, 1_000_000, 200_000)).toBe(6);
    const record = buildTurnRecord(facts(), configWithPrices());
    expect(record).toMatchObject({ input_tokens: 1000, output_tokens: 2000, estimated_cost_usd: 0.00054, stop_reason: "end_turn", error_code: null });
    expect(record).toMatchObject({ first_token_ms: 120, total_ms: 901, turn_at: 1_780_000_000_000, cached: false });
  });

  it("gives no cost when either token count is unknown", () => {
    const pricing = { inputPerMillionTokens: 1, outputPerMillionTokens: 2 };
    expect([estimateCostUsd(pricing, null, 10), estimateCostUsd(pricing, 10, null), estimateCostUsd(pricing, 1_000_000, 1_000_000)]).toEqual([null, null, 3]);
  });

  it("gives no cost for a model without prices, and none for unknown tokens", () => {
    expect(buildTurnRecord(facts({ modelId: MODEL_NOVA_PRO }), configWithPrices()).estimated_cost_usd).toBeNull();
    const midway = buildTurnRecord(facts({ ending: { kind: "error", code: "model_error" } }), configWithPrices());
    expect(midway).toMatchObject({ input_tokens: null, output_tokens: null, estimated_cost_usd: null, error_code: "model_error", stop_reason: null, total_ms: 950, first_token_ms: 130 });
  });

  it("counts a refusal as zero tokens at zero cost, and a cache hit as costing nothing", () => {
    const refused = buildTurnRecord(facts({ answerStarted: false, ending: { kind: "error", code: "limit_exceeded" }, observedMs: { firstToken: null, total: 12 } }), configWithPrices());
    expect(refused).toMatchObject({ input_tokens: 0, output_tokens: 0, estimated_cost_usd: 0, first_token_ms: null });
    const cached = buildTurnRecord(facts({ cached: true, modelId: MODEL_NOVA_PRO }), configWithPrices());
    expect(cached).toMatchObject({ cached: true, estimated_cost_usd: 0 });
  });

  it("marks a turn whose final event never went out as relay_failed", () => {
    expect(buildTurnRecord(facts({ ending: { kind: "undelivered" } }), configWithPrices())).toMatchObject({ stop_reason: "relay_failed", error_code: null });
  });

  it("carries 80-character previews only with observability.logPreviews", () => {
    const config = configWithPrices();
    expect(buildTurnRecord(facts(), config)).toMatchObject({ prompt_preview: null, answer_preview: null });
    const withPreviews = { ...config, observability: { ...config.observability, logPreviews: true } };
    expect(buildTurnRecord(facts(), withPreviews)).toMatchObject({ prompt_preview: "p".repeat(80), answer_preview: "a".repeat(80) });
  });
});

describe("per-model metrics", () => {
  it("never throw at the turn: a figure Powertools refuses goes to the failure handler", () => {
    const failures: unknown[] = [];
    const metrics = new ModelMetrics({ namespace: "Test", serviceName: "test" }, (err) => failures.push(err));
    metrics.record(MODEL_NOVA_LITE, [[METRIC.inputTokens, MetricUnit.Count, 1]]);
    // The same name with a second unit is an error in Powertools.
    expect(() => metrics.record(MODEL_NOVA_LITE, [[METRIC.inputTokens, MetricUnit.Count, 1], [METRIC.inputTokens, MetricUnit.Seconds, 1]])).not.toThrow();
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toContain("InputTokens");
  });
});
