/**
 * What an operator sees of one chat turn (chat.ts): its `chat answered` line and EMF figures,
 * a stream that failed or hit the deadline, and an answer nobody could receive.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { HttpEventPublisher } from "../../functions/lib/relay/publisher.js";
import { DEADLINE_MARGIN_MS } from "../../functions/lib/worker/chat.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { handleInboundPublish, type Invocation } from "../../functions/lib/worker/inbound.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { MODEL_NOVA_LITE } from "../support/config-fixtures.js";
import { atLevel, printedWhile, withMessage } from "../support/stdout.js";
import { chatRequest, inboundPublish, REGION, startReportingWorker, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
let deps: WorkerDeps;
beforeAll(async () => {
  ({ harness, deps } = await startReportingWorker());
});
afterAll(() => harness?.close());

/** Answers one chat of a new user; what was printed, what the user got, and how long the call took. */
async function turn(message: string, options: { using?: WorkerDeps; invocation?: Invocation } = {}) {
  const user = randomUUID();
  const request = chatRequest(message);
  const startedAt = performance.now();
  const printed = await printedWhile(() => handleInboundPublish(options.using ?? deps, inboundPublish(user, [request]), options.invocation));
  const elapsedMs = performance.now() - startedAt;
  return { ...printed, user, request, events: harness.outbound(user), elapsedMs };
}

const doneOf = (events: OutboundEvent[]) => {
  const done = events.at(-1);
  if (done?.type !== "done") throw new Error(`expected done, got ${done?.type}`);
  return done;
};
const streamedText = (events: OutboundEvent[]) => events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");
/** The metric names of an EMF line, in order. */
const metricNames = (line: Record<string, unknown> | undefined) =>
  (line?._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } | undefined)?.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name);
const modelLines = (metrics: Record<string, unknown>[]) => metrics.filter((line) => line.ModelId === MODEL_NOVA_LITE);

describe("an answered turn", () => {
  it("is logged as `chat answered` with its figures, emitted as one EMF line of them, with nothing at ERROR", async () => {
    const { logs, metrics, events, elapsedMs } = await turn("Figures please [[fake:tokens=5]]");
    const done = doneOf(events);
    // The latency reported is the turn's own: never longer than the call that ran it.
    expect(done.latencyMs.total).toBeLessThanOrEqual(Math.ceil(elapsedMs));
    expect(done.latencyMs.firstToken).toBeLessThanOrEqual(done.latencyMs.total);
    expect(withMessage(logs, "chat answered")).toEqual([
      expect.objectContaining({
        level: "INFO",
        model_id: MODEL_NOVA_LITE,
        stop_reason: "end_turn",
        input_tokens: done.usage.inputTokens,
        output_tokens: 5,
        first_token_ms: done.latencyMs.firstToken,
        total_ms: done.latencyMs.total,
      }),
    ]);
    expect(atLevel(logs, "ERROR")).toEqual([]);
    const lines = modelLines(metrics);
    expect(lines).toEqual([
      expect.objectContaining({ InputTokens: done.usage.inputTokens, OutputTokens: 5, ResponseLatency: done.latencyMs.total, FirstTokenLatency: done.latencyMs.firstToken }),
    ]);
    expect(metricNames(lines[0])).toEqual(["InputTokens", "OutputTokens", "ResponseLatency", "FirstTokenLatency"]);
  });

  it("reports an answer without text with firstToken null, and emits no FirstTokenLatency", async () => {
    const { logs, metrics, events } = await turn("Say nothing [[fake:tokens=0]]");
    const done = doneOf(events);
    expect(done.latencyMs.firstToken).toBeNull();
    const [answered] = withMessage(logs, "chat answered");
    expect(answered).toMatchObject({ output_tokens: 0, total_ms: done.latencyMs.total });
    expect(answered).not.toHaveProperty("first_token_ms");
    const lines = modelLines(metrics);
    expect(lines).toEqual([expect.objectContaining({ OutputTokens: 0, ResponseLatency: done.latencyMs.total })]);
    expect(metricNames(lines[0])).toEqual(["InputTokens", "OutputTokens", "ResponseLatency"]);
  });
});

describe("a turn that ends early", () => {
  it("logs a stream that fails mid-way at WARN with its code and the characters streamed, and counts ModelErrors", async () => {
    const { logs, metrics, events } = await turn("Break [[fake:tokens=40,fault=midstream,after=10]]");
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_error" });
    const streamed = streamedText(events);
    expect(streamed.length).toBeGreaterThan(0);
    expect(withMessage(logs, "model stream failed")).toEqual([
      expect.objectContaining({ level: "WARN", code: "model_error", error_name: "ModelStreamErrorException", output_chars: streamed.length }),
    ]);
    expect(modelLines(metrics)).toEqual([expect.objectContaining({ ModelErrors: 1 })]);
  });

  it("tells the user a turn stopped at the invocation's deadline to retry in 30 s, and counts no model failure", async () => {
    // The deadline comes half a second into a ten-second answer.
    const { logs, metrics, events } = await turn("A long story [[fake:tokens=200,rate=20]]", { invocation: { remainingTimeMs: () => DEADLINE_MARGIN_MS + 500 } });
    expect(events[0]).toMatchObject({ type: "start" });
    expect(events.at(-1)).toMatchObject({
      type: "error",
      code: "model_unavailable",
      message: "The answer took longer than this gateway allows and was stopped.",
      retryAfterSeconds: 30,
      details: { reason: "deadline" },
    });
    expect(withMessage(logs, "model stream failed")).toEqual([expect.objectContaining({ code: "model_unavailable" })]);
    expect(modelLines(metrics)).toEqual([]);
  });

  it("stops the model once the user's channel refuses the answer, records no turn, and logs the undelivered events", async () => {
    // A publisher the Events server refuses (a wrong secret): nothing reaches the user.
    const refused = new HttpEventPublisher({
      endpoint: harness.events.httpEndpoint,
      region: REGION,
      credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: "not-the-secret" },
    });
    const { logs, events, user, request } = await turn("Talk to nobody [[fake:tokens=40,rate=40]]", { using: { ...deps, publisher: refused } });
    expect(events).toEqual([]);
    await harness.bedrock.idle();
    expect(harness.bedrock.requests.at(-1)).toMatchObject({ outcome: "client_aborted" });
    expect(withMessage(logs, "chat answered")).toEqual([expect.objectContaining({ stop_reason: "relay_failed" })]);
    expect(atLevel(logs, "ERROR")).toEqual([expect.objectContaining({ message: "could not deliver events to the user", error_name: "PublishError" })]);
    expect(await deps.conversations.recentTurns(user, request.conversationId, 10)).toEqual([]);
    refused.destroy();
  });
});
