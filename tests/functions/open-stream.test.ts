/**
 * Opening the model stream (worker/open-stream.ts) against the Bedrock-compatible server with
 * the real SDK client: which models are tried and in what order, when a failure falls back to
 * the next, and what each failure leaves in the logs and metrics. The worker suites
 * (model-access, chat-worker) cover the same through a whole turn.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ConverseRequest } from "../../functions/lib/bedrock/converse.js";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import type { GatewayConfig, ModelConfig } from "../../functions/lib/config/schema.js";
import { METRIC, ModelMetrics } from "../../functions/lib/observability/metrics.js";
import { GatewayError } from "../../functions/lib/protocol/errors.js";
import { modelCandidates, openModelStream } from "../../functions/lib/worker/open-stream.js";
import { createLocalBedrockClient, startBedrockServer, type BedrockServer } from "../../local/bedrock/index.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET, withValue } from "../support/config-fixtures.js";
import { jsonLines, stdoutWhile } from "../support/stdout.js";

let bedrock: BedrockServer;
beforeAll(async () => {
  bedrock = await startBedrockServer();
});
afterAll(() => bedrock?.close());
beforeEach(() => bedrock.reset());

const config: GatewayConfig = parseGatewayConfig(withValue("fallbackModels", [MODEL_SONNET, MODEL_NOVA_LITE, MODEL_NOVA_PRO]), { region: "us-east-1" });
const model = (id: string) => config.models.find((m) => m.id === id)!;

/** A request whose message carries, per model, a directive of the fake (`[[fake:fault=...]]`). */
const requestWith =
  (directives: Record<string, string> = {}) =>
  (m: ModelConfig): ConverseRequest => ({
    modelId: m.id,
    system: "",
    messages: [{ role: "user", text: `Hi ${directives[m.id] ?? ""}` }],
    maxTokens: 50,
  });

/** Opens a stream over `candidates`; what it returned or threw, the log lines and the EMF lines. */
async function open(
  candidates: ModelConfig[],
  request: (m: ModelConfig) => ConverseRequest,
  { signal, ...options }: { modelIdleTimeoutMs?: number; signal?: AbortSignal } = {},
) {
  const deps = {
    // One attempt per call, as the worker's client (bedrock/client.ts) makes it.
    bedrock: createLocalBedrockClient(bedrock.url, { maxAttempts: 1 }),
    modelMetrics: new ModelMetrics({ namespace: "Test", serviceName: "test" }),
    ...options,
  };
  let result: { model?: string; failure?: unknown } = {};
  const lines = jsonLines(
    await stdoutWhile(
      async () => {
        try {
          const opened = await openModelStream(deps, candidates, request, new Logger({ serviceName: "test", logLevel: "DEBUG" }), signal);
          result = { model: opened.model.id };
          for await (const _ of opened.parts);
        } catch (err) {
          result = { failure: err };
        }
      },
      { stderr: true },
    ),
  );
  deps.bedrock.destroy();
  const metrics = lines.filter((l) => "_aws" in l);
  return { ...result, logs: lines.filter((l) => !("_aws" in l)), metrics };
}

/** The metric names an EMF line carries for `modelId`. */
const countedFor = (metrics: Record<string, unknown>[], modelId: string) =>
  metrics.filter((m) => m.ModelId === modelId).flatMap((m) => Object.keys(m).filter((k) => Object.values(METRIC).includes(k as never)));

describe("the models a turn may try", () => {
  it("are the chosen one, then the stack's fallbacks the tier may use, in order, without the chosen one again", () => {
    // The default tier may use Nova Lite and Pro, not Sonnet.
    expect(modelCandidates(config, config.tiers.default!, model(MODEL_NOVA_LITE), false).map((m) => m.id)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_PRO]);
    expect(modelCandidates(config, config.tiers.pro!, model(MODEL_NOVA_PRO), false).map((m) => m.id)).toEqual([MODEL_NOVA_PRO, MODEL_SONNET, MODEL_NOVA_LITE]);
  });

  it("are the named model alone when the request named one", () => {
    expect(modelCandidates(config, config.tiers.pro!, model(MODEL_NOVA_PRO), true).map((m) => m.id)).toEqual([MODEL_NOVA_PRO]);
  });
});

describe("opening the model stream", () => {
  it("falls back past a throttled model, warning with both models and the failure, and counts a throttle", async () => {
    const opened = await open([model(MODEL_NOVA_LITE), model(MODEL_NOVA_PRO)], requestWith({ [MODEL_NOVA_LITE]: "[[fake:fault=throttle]]" }));
    expect(opened.model).toBe(MODEL_NOVA_PRO);
    expect(bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_PRO]);
    expect(opened.logs).toEqual([
      expect.objectContaining({
        level: "WARN",
        message: "model call failed before the answer began",
        model_id: MODEL_NOVA_LITE,
        code: "model_throttled",
        // The SDK's exception, not the GatewayError it became.
        error_name: "ThrottlingException",
        fallback_model_id: MODEL_NOVA_PRO,
      }),
    ]);
    expect(countedFor(opened.metrics, MODEL_NOVA_LITE)).toEqual([METRIC.modelThrottles]);
  });

  it("does not fall back from a failure the next model would share, and counts it as a model error", async () => {
    const opened = await open([model(MODEL_NOVA_LITE), model(MODEL_NOVA_PRO)], requestWith({ [MODEL_NOVA_LITE]: "[[fake:fault=validation]]" }));
    expect(opened.failure).toBeInstanceOf(GatewayError);
    expect(opened.failure).toMatchObject({ code: "model_error" });
    expect(bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE]);
    expect(opened.logs).toEqual([expect.objectContaining({ level: "WARN", model_id: MODEL_NOVA_LITE, code: "model_error", error_name: "ValidationException", fallback_model_id: MODEL_NOVA_PRO })]);
    expect(countedFor(opened.metrics, MODEL_NOVA_LITE)).toEqual([METRIC.modelErrors]);
  });

  it("throws the last model's failure when every candidate failed, each counted under its own model", async () => {
    const opened = await open(
      [model(MODEL_NOVA_LITE), model(MODEL_NOVA_PRO)],
      requestWith({ [MODEL_NOVA_LITE]: "[[fake:fault=throttle]]", [MODEL_NOVA_PRO]: "[[fake:fault=access_denied]]" }),
    );
    expect(opened.failure).toMatchObject({ code: "model_unavailable", extra: { details: { reason: "model_not_enabled" } } });
    expect(opened.logs.map((l) => [l.level, l.model_id, l.error_name, l.fallback_model_id])).toEqual([
      ["WARN", MODEL_NOVA_LITE, "ThrottlingException", MODEL_NOVA_PRO],
      ["ERROR", MODEL_NOVA_PRO, "AccessDeniedException", undefined],
    ]);
    expect(opened.logs[1]!.message).toBe(
      "model not enabled for this account: enable access to it in Bedrock (Marketplace subscription, first-use form) or remove it from models",
    );
    expect(countedFor(opened.metrics, MODEL_NOVA_LITE)).toEqual([METRIC.modelThrottles]);
    expect(countedFor(opened.metrics, MODEL_NOVA_PRO)).toEqual([METRIC.modelAccessDenied]);
  });

  it("stops at a cancel while the first part is awaited: no model failed, nothing is counted or logged, no fallback runs", async () => {
    const cancel = new AbortController();
    const cancelled = new GatewayError("cancelled", "Stopped at your request.");
    setTimeout(() => cancel.abort(cancelled), 200);
    const opened = await open([model(MODEL_NOVA_LITE), model(MODEL_NOVA_PRO)], requestWith({ [MODEL_NOVA_LITE]: "[[fake:fault=hang]]" }), { signal: cancel.signal });
    expect(opened.failure).toBe(cancelled);
    expect(bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE]);
    expect(opened.logs).toEqual([]);
    expect(opened.metrics).toEqual([]);
  });

  it("gives up on a model that sends nothing for modelIdleTimeoutMs and falls back to the next", async () => {
    const opened = await open([model(MODEL_NOVA_LITE), model(MODEL_NOVA_PRO)], requestWith({ [MODEL_NOVA_LITE]: "[[fake:fault=hang]]" }), { modelIdleTimeoutMs: 300 });
    expect(opened.model).toBe(MODEL_NOVA_PRO);
    expect(opened.logs).toEqual([expect.objectContaining({ model_id: MODEL_NOVA_LITE, code: "model_unavailable", error_name: "ModelIdleTimeout", fallback_model_id: MODEL_NOVA_PRO })]);
  });
});
