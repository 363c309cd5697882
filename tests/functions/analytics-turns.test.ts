/**
 * The turn recorder on its own: which requests become records, what it reads from the events
 * the worker publishes, and how it reports deliveries that fail. The delivery is a recording
 * stand-in for Firehose (tests/functions/analytics-delivery covers the real one).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TurnRecord } from "../../functions/lib/analytics/columns.js";
import type { DeliveryOutcome, RecordDelivery } from "../../functions/lib/analytics/firehose.js";
import { TurnRecorder } from "../../functions/lib/analytics/recorder.js";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import type { InboundRequest } from "../../functions/lib/protocol/inbound.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { devLikeConfig, MODEL_NOVA_LITE } from "../support/config-fixtures.js";

const USER = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const CHANNEL = `/Outbound-Messages/${USER}`;

class RecordingDelivery implements RecordDelivery {
  batches: TurnRecord[][] = [];
  constructor(private readonly answer: (records: readonly TurnRecord[]) => Promise<DeliveryOutcome> = async (r) => ({ delivered: r.length, failed: 0, errorCodes: [] })) {}
  async deliver(records: readonly TurnRecord[]) {
    this.batches.push([...records]);
    return this.answer(records);
  }
}

function recorder(options: { logPreviews?: boolean; delivery?: RecordingDelivery } = {}) {
  const delivery = options.delivery ?? new RecordingDelivery();
  const config = parseGatewayConfig({ ...devLikeConfig(), observability: { logPreviews: options.logPreviews ?? false } });
  const metrics = new Metrics({ namespace: "Test", serviceName: "test" });
  const logger = new Logger({ serviceName: "test" });
  // Powertools writes through its own console object (warnings to stderr); keep what it prints.
  const logged: Record<string, unknown>[] = [];
  (logger as unknown as { console: unknown }).console = { warn: (line: string) => logged.push(JSON.parse(line)) };
  const turns = new TurnRecorder({ config, delivery, logger, metrics, now: () => 1_700_000_000_000 });
  const published: OutboundEvent[][] = [];
  const publisher = turns.observe({ publish: async (_channel, events) => void published.push([...events]) });
  return { turns, delivery, metrics, publisher, published, logged };
}

const chat = (overrides: Partial<InboundRequest> = {}): InboundRequest =>
  ({ action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message: "What is 2 + 2?", ...overrides }) as InboundRequest;
const event = (requestId: string, body: Record<string, unknown>, seq = 0) => ({ requestId, seq, conversationId: "c", ...body }) as OutboundEvent;
const done = (requestId: string, seq: number) =>
  event(requestId, { type: "done", stopReason: "end_turn", cached: false, usage: { inputTokens: 12, outputTokens: 34 }, latencyMs: { firstToken: 50, total: 400 } }, seq);

describe("analytics records of chat turns, recorder alone", () => {
  it("records only chat requests that carry a conversation and a message", async () => {
    const { turns, delivery } = recorder();
    turns.beginTurn({ userId: USER, tier: "default", request: { action: "usage", requestId: randomUUID() } as InboundRequest });
    turns.beginTurn({ userId: USER, tier: "default", request: chat({ conversationId: undefined }) });
    turns.beginTurn({ userId: USER, tier: "default", request: chat({ message: undefined }) });
    await turns.flush();
    expect(delivery.batches).toEqual([]);
    const request = chat();
    turns.beginTurn({ userId: USER, tier: "pro", request });
    await turns.flush();
    expect(delivery.batches).toEqual([[expect.objectContaining({ request_id: request.requestId, tier: "pro", user_id: USER, turn_at: 1_700_000_000_000 })]]);
    await turns.flush();
    expect(delivery.batches).toHaveLength(1);
  });

  it("reads the model, cache flag and ending from the turn's own events on the user's channel only", async () => {
    const { turns, delivery, publisher, published } = recorder();
    const request = chat({ modelId: "us.amazon.nova-pro-v1:0" });
    turns.beginTurn({ userId: USER, tier: "default", request });
    await publisher.publish("/Outbound-Messages/someone-else", [event(request.requestId, { type: "error", code: "internal_error", message: "x" })]);
    await publisher.publish(CHANNEL, [event(request.requestId, { type: "start", modelId: MODEL_NOVA_LITE, cached: false }), event(request.requestId, { type: "delta", text: "4" }, 1), done(request.requestId, 2)]);
    await publisher.publish(CHANNEL, [event(request.requestId, { type: "error", code: "internal_error", message: "late" }, 3)]);
    expect(published).toHaveLength(3);
    await turns.flush();
    expect(delivery.batches[0]![0]).toMatchObject({ model_id: MODEL_NOVA_LITE, stop_reason: "end_turn", error_code: null, input_tokens: 12, output_tokens: 34, first_token_ms: 50, total_ms: 400 });
  });

  it("measures an error's timings itself: no first token without text, and a total from the turn's start", async () => {
    const { turns, delivery, publisher } = recorder();
    const silent = chat();
    const talking = chat();
    turns.beginTurn({ userId: USER, tier: "default", request: silent });
    turns.beginTurn({ userId: USER, tier: "default", request: talking });
    await new Promise((r) => setTimeout(r, 30));
    await publisher.publish(CHANNEL, [event(silent.requestId, { type: "error", code: "model_unavailable", message: "busy" })]);
    await publisher.publish(CHANNEL, [event(talking.requestId, { type: "start", modelId: MODEL_NOVA_LITE, cached: false }), event(talking.requestId, { type: "delta", text: "par" }, 1)]);
    await publisher.publish(CHANNEL, [event(talking.requestId, { type: "delta", text: "tial" }, 2), event(talking.requestId, { type: "error", code: "model_error", message: "broke" }, 3)]);
    await turns.flush();
    const [first, second] = delivery.batches[0]!;
    expect(first).toMatchObject({ error_code: "model_unavailable", first_token_ms: null, input_tokens: 0 });
    expect(first!.total_ms).toBeGreaterThanOrEqual(25);
    expect(first!.total_ms).toBeLessThan(5_000);
    expect(second).toMatchObject({ error_code: "model_error", input_tokens: null, answer_preview: null });
    expect(second!.first_token_ms).toBeGreaterThanOrEqual(25);
    expect(second!.first_token_ms).toBeLessThanOrEqual(second!.total_ms);
  });

  it("keeps the answer's first characters only with previews on, up to the preview length", async () => {
    const { turns, delivery, publisher } = recorder({ logPreviews: true });
    const request = chat();
    turns.beginTurn({ userId: USER, tier: "default", request });
    const deltas = Array.from({ length: 4 }, (_, i) => event(request.requestId, { type: "delta", text: "x".repeat(50) }, i));
    await publisher.publish(CHANNEL, deltas);
    await turns.flush();
    expect(delivery.batches[0]![0]!.answer_preview).toBe("x".repeat(80));
    expect(delivery.batches[0]![0]!.stop_reason).toBe("relay_failed");
  });

  it("logs and counts records Firehose refused, and a delivery that failed as a whole, without throwing", async () => {
    const flushed = async (delivery?: RecordingDelivery, turnCount = 1) => {
      const r = recorder({ delivery });
      for (let i = 0; i < turnCount; i++) r.turns.beginTurn({ userId: USER, tier: "default", request: chat() });
      await r.turns.flush();
      return { lines: r.logged, metricsText: JSON.stringify(r.metrics.serializeMetrics()) };
    };
    const refusing = new RecordingDelivery(async (r) => ({ delivered: 0, failed: r.length, errorCodes: ["ServiceUnavailableException", "ServiceUnavailableException"] }));
    const refused = await flushed(refusing, 2);
    expect(refused.lines).toContainEqual(expect.objectContaining({ message: "analytics records not delivered", records: 2, error_codes: ["ServiceUnavailableException"] }));
    expect(refused.metricsText).toContain('"AnalyticsDeliveryFailures":2');

    const broken = new RecordingDelivery(async () => {
      throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
    });
    expect((await flushed(broken)).lines).toContainEqual(expect.objectContaining({ message: "analytics records not delivered", records: 1, error_name: "TimeoutError" }));

    const fine = await flushed();
    expect(fine.lines).toEqual([]);
    expect(fine.metricsText).not.toContain("AnalyticsDeliveryFailures");
  });
});
