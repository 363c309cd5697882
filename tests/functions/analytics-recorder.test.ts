/**
 * The worker's analytics: one record per chat turn, sent through the real Firehose SDK client
 * to the local Firehose (which writes Parquet with DuckDB), after the turn's final event and
 * never at the turn's expense.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { turnRecorderFromEnv } from "../../functions/lib/analytics/from-env.js";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { ENV } from "../../functions/lib/env.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { type LocalFirehose, startLocalFirehose } from "../../local/firehose/index.js";
import { runLocalSql } from "../../tools/analytics/local-queries.js";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO, MODEL_SONNET } from "../support/config-fixtures.js";
import { inboundPublish, startWorkerHarness, withAnalytics, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

const PRICED = { inputPerMillionTokens: 0.06, outputPerMillionTokens: 0.24 };

let harness: WorkerHarness;
let firehose: LocalFirehose;
let dir: string;

beforeAll(async () => {
  const config = devLikeConfig();
  config.models = config.models.map((m) => (m.id === MODEL_NOVA_LITE ? { ...m, pricing: PRICED } : m));
  harness = await startWorkerHarness(config);
  dir = await mkdtemp(join(tmpdir(), "analytics-"));
  firehose = await startLocalFirehose({ streamName: "turns-test", dir });
});
afterAll(async () => {
  await Promise.all([harness?.close(), firehose?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const chat = (message: string, extra: Record<string, unknown> = {}) => ({ requestId: randomUUID(), conversationId: randomUUID(), message, ...extra });

/**
 * What the handler does: answer the publish, then flush the turns' records; then the local
 * Firehose writes what it acknowledged (it buffers, as a delivery stream does).
 */
async function invoke(deps: WorkerDeps, sub: string, payloads: unknown[], groups?: string[]) {
  await handleInboundPublish(deps, inboundPublish(sub, payloads, { groups }));
  await deps.analytics!.flush();
  await firehose.flush();
}

async function rowsOf(user: string): Promise<Record<string, unknown>[]> {
  const { columns, rows } = await runLocalSql(dir, `SELECT * FROM turns WHERE user_id = '${user}' ORDER BY turn_at`);
  return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
}

describe("analytics records of chat turns", () => {
  it("writes one Parquet row per answered turn with its model, tier, tokens, latency and estimated cost", async () => {
    const deps = withAnalytics(workerDeps(harness), firehose);
    const user = randomUUID();
    const request = chat("[[fake:tokens=12]] tell me about otters");
    const before = Date.now();
    await invoke(deps, user, [request]);
    const done = harness.outbound(user).at(-1)!;
    expect(done).toMatchObject({ type: "done" });
    const [row, ...rest] = await rowsOf(user);
    expect(rest).toEqual([]);
    const { usage, latencyMs } = done as unknown as { usage: { inputTokens: number; outputTokens: number }; latencyMs: { firstToken: number; total: number } };
    expect(row).toMatchObject({
      request_id: request.requestId,
      conversation_id: request.conversationId,
      model_id: MODEL_NOVA_LITE,
      tier: "default",
      input_tokens: String(usage.inputTokens),
      output_tokens: "12",
      cached: false,
      stop_reason: "end_turn",
      error_code: null,
      first_token_ms: latencyMs.firstToken,
      total_ms: latencyMs.total,
      prompt_preview: null,
      answer_preview: null,
    });
    expect(row!.estimated_cost_usd).toBeCloseTo((usage.inputTokens * 0.06 + 12 * 0.24) / 1e6, 12);
    expect(Date.parse(`${row!.turn_at as string}Z`)).toBeGreaterThanOrEqual(before - 1000);
    const now = new Date();
    expect(row).toMatchObject({ year: String(now.getUTCFullYear()), month: String(now.getUTCMonth() + 1).padStart(2, "0") });
  });

  it("is built from the environment as the worker builds it: the named stream at the named endpoint, or none", async () => {
    const options = { config: loadGatewayConfig(), logger: new Logger({ serviceName: "test", logLevel: "CRITICAL" }), metrics: new Metrics({ namespace: "Test" }) };
    delete process.env[ENV.analyticsStream];
    expect(turnRecorderFromEnv(options)).toBeUndefined();
    Object.assign(process.env, { [ENV.analyticsStream]: "turns-test", [ENV.firehoseEndpoint]: firehose.endpoint });
    try {
      const analytics = turnRecorderFromEnv(options)!;
      const base = workerDeps(harness);
      const user = randomUUID();
      await invoke({ ...base, analytics, publisher: analytics.observe(base.publisher) }, user, [chat("[[fake:tokens=3]] hi")]);
      expect(await rowsOf(user)).toEqual([expect.objectContaining({ user_id: user, output_tokens: "3" })]);
    } finally {
      delete process.env[ENV.analyticsStream];
      delete process.env[ENV.firehoseEndpoint];
    }
  });

  it("reports no cost for a model without prices rather than a wrong one", async () => {
    const deps = withAnalytics(workerDeps(harness), firehose);
    const user = randomUUID();
    await invoke(deps, user, [chat("hello", { modelId: MODEL_SONNET })], ["pro"]);
    const [row] = await rowsOf(user);
    expect(row).toMatchObject({ model_id: MODEL_SONNET, tier: "pro", estimated_cost_usd: null, stop_reason: "end_turn" });
    expect(Number(row!.output_tokens)).toBeGreaterThan(0);
  });

  it("records refusals and model failures with their error code, and sends a batch's records in one PutRecordBatch", async () => {
    const deps = withAnalytics(workerDeps(harness), firehose);
    const user = randomUUID();
    const before = firehose.metrics();
    const refused = chat("hi", { modelId: MODEL_SONNET });
    const throttled = chat("[[fake:fault=throttle]] hi", { modelId: MODEL_NOVA_PRO });
    const midstream = chat("[[fake:fault=midstream,tokens=40]] hi", { modelId: MODEL_NOVA_LITE });
    await invoke(deps, user, [refused, throttled, midstream]);
    const rows = await rowsOf(user);
    const byRequest = new Map(rows.map((r) => [r.request_id, r]));
    expect(byRequest.get(refused.requestId)).toMatchObject({ error_code: "model_not_allowed", model_id: MODEL_SONNET, input_tokens: "0", output_tokens: "0", stop_reason: null });
    expect(byRequest.get(throttled.requestId)).toMatchObject({ error_code: "model_throttled", model_id: MODEL_NOVA_PRO, input_tokens: "0" });
    // Failed mid-answer: the model never reported usage, so tokens and cost are unknown, not zero.
    expect(byRequest.get(midstream.requestId)).toMatchObject({ error_code: "model_error", model_id: MODEL_NOVA_LITE, input_tokens: null, output_tokens: null, estimated_cost_usd: null });
    expect(rows).toHaveLength(3);
    // Three records, one request to Firehose.
    const after = firehose.metrics();
    expect({ requests: after.incomingPutRequests - before.incomingPutRequests, records: after.incomingRecords - before.incomingRecords }).toEqual({ requests: 1, records: 3 });
  });

  it("records a turn once: a duplicate delivery of the same request adds no row", async () => {
    const deps = withAnalytics(workerDeps(harness), firehose);
    const user = randomUUID();
    const request = chat("once only");
    await invoke(deps, user, [request]);
    await invoke(deps, user, [request]);
    expect(harness.outbound(user).filter((e) => e.type === "done")).toHaveLength(2);
    expect(await rowsOf(user)).toHaveLength(1);
  });

  it("keeps prompt and answer previews only when observability.logPreviews is on", async () => {
    const base = loadGatewayConfig();
    const deps = withAnalytics(workerDeps(harness, { config: { ...base, observability: { ...base.observability, logPreviews: true } } }), firehose);
    const user = randomUUID();
    await invoke(deps, user, [chat("the wombat question, answered at length for the preview")]);
    const [row] = await rowsOf(user);
    expect(row!.prompt_preview).toBe("the wombat question, answered at length for the preview");
    const answer = harness.outbound(user).filter((e) => e.type === "delta").map((e) => (e as { text: string }).text).join("");
    expect(row!.answer_preview).toBe(answer.slice(0, 80));
  });

  it("answers the user and counts the failure when Firehose cannot be reached", async () => {
    // A server that accepts connections and never answers: the delivery's timeout must end it.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const warnings: string[] = [];
    const logger = new Logger({ serviceName: "test", logLevel: "CRITICAL" });
    logger.warn = ((message: string) => void warnings.push(message)) as Logger["warn"];
    const metrics = new Metrics({ namespace: "Test", serviceName: "test" });
    const deps = withAnalytics(workerDeps(harness, { logger, metrics }), { endpoint, streamName: "turns-test" }, { timeoutMs: 300 });
    const user = randomUUID();
    try {
      const started = performance.now();
      await invoke(deps, user, [chat("still answered")]);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "done", stopReason: "end_turn" });
    expect(warnings).toContain("analytics records not delivered");
    const serialized = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(serialized.AnalyticsDeliveryFailures).toBe(1);
  });
});
