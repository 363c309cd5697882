import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { devLikeConfig, MODEL_NOVA_LITE, MODEL_NOVA_PRO } from "../support/config-fixtures.js";
import { inboundPublish, lambdaContext, startWorkerHarness, type WorkerHarness } from "../support/worker-harness.js";

// Bedrock's AccessDeniedException: a model the gateway's account may not use (Marketplace
// subscription or first-use form missing). The fake answers it for `fault: "access_denied"`.
let harness: WorkerHarness;
let handler: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  harness = await startWorkerHarness({ ...devLikeConfig(), fallbackModels: [MODEL_NOVA_PRO] }, { logLevel: "INFO" });
  ({ handler } = (await import("../../functions/chatWorker.js")) as never);
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const newUser = () => randomUUID();
const chat = (message: string, extra: Record<string, unknown> = {}) => ({ action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message, ...extra });
const invoke = (event: unknown) => handler(event, lambdaContext());

/** Runs `work` and returns the lines it wrote (Powertools logs, ERROR on stderr, and EMF metrics). */
async function outputOf(work: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      return (writes[i] as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
  try {
    await work();
  } finally {
    streams.forEach((stream, i) => (stream.write = writes[i]!));
  }
  return lines;
}

describe("a model the account has not enabled", () => {
  it("reports a model the account has not enabled as a configuration error: final, logged at ERROR, counted", async () => {
    const user = newUser();
    const request = chat("Hello", { modelId: MODEL_NOVA_LITE });
    harness.bedrock.configure({ fault: "access_denied" });
    const lines = await outputOf(() => invoke(inboundPublish(user, [request])));
    const first = harness.outbound(user);
    expect(first).toEqual([expect.objectContaining({ type: "error", code: "model_unavailable", details: { reason: "model_not_enabled" } })]);
    expect(first[0]).not.toHaveProperty("retryAfterSeconds");
    expect(JSON.stringify(first[0])).not.toMatch(/AccessDenied|Marketplace/);

    const logged = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(logged).toContainEqual(expect.objectContaining({ level: "ERROR", model_id: MODEL_NOVA_LITE, message: expect.stringContaining("not enabled") }));
    expect(logged).toContainEqual(expect.objectContaining({ ModelId: MODEL_NOVA_LITE, ModelAccessDenied: 1 }));

    // Never retried under the same request id: the resend gets the same outcome, no model call.
    harness.bedrock.configure({ fault: null });
    await invoke(inboundPublish(user, [request]));
    expect(harness.outbound(user).slice(1)).toEqual(first);
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("lets a fallback answer a request that named no model when the default is not enabled", async () => {
    const user = newUser();
    harness.bedrock.configure({ fault: "access_denied", faultTimes: 1 });
    await invoke(inboundPublish(user, [chat("Anyone enabled?")]));
    const events = harness.outbound(user);
    expect(events[0]).toMatchObject({ type: "start", modelId: MODEL_NOVA_PRO });
    expect(events.at(-1)).toMatchObject({ type: "done" });
  });

  it("completes the claim when every model is not enabled, so a resend is not retried", async () => {
    const user = newUser();
    const request = chat("Nobody enabled?");
    harness.bedrock.configure({ fault: "access_denied" });
    await invoke(inboundPublish(user, [request]));
    expect(harness.bedrock.requests.map((r) => r.modelId)).toEqual([MODEL_NOVA_LITE, MODEL_NOVA_PRO]);
    harness.bedrock.configure({ fault: null });
    await invoke(inboundPublish(user, [request]));
    expect(harness.bedrock.requests).toHaveLength(2);
    expect(harness.outbound(user).map((e) => e.type)).toEqual(["error", "error"]);
  });

});
