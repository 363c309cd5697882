/**
 * The guardrail path end to end through the worker and the model server: the worker names the
 * stack's guardrail in every call (sync stream processing), and an intervention ends the turn
 * with `done` / `guardrail_intervened`, the guardrail's message as the answer, the tokens the
 * model reported, and a GuardrailInterventions metric.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { devLikeConfig, MODEL_NOVA_LITE } from "../support/config-fixtures.js";
import { emfWhile } from "../support/emf.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

const BLOCKED = "That is outside what this assistant may discuss.";
let harness: WorkerHarness;
let deps: WorkerDeps;
beforeAll(async () => {
  harness = await startWorkerHarness(
    { ...devLikeConfig(), guardrail: { enabled: true, blockedMessage: BLOCKED, deniedTopics: [{ name: "investment advice", definition: "Recommendations about investments." }] } },
    {
      guardrail: { id: "gr7x2", version: "3" },
      bedrock: { guardrails: [{ id: "gr7x2", versions: ["3"], deniedTopics: ["investment advice"], blockedMessage: BLOCKED }] },
    },
  );
  deps = workerDeps(harness);
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

const chat = async (sub: string, message: string, conversationId = randomUUID()) => {
  const requestId = randomUUID();
  await handleInboundPublish(deps, inboundPublish(sub, [{ requestId, conversationId, message }]));
  return harness.outbound(sub).filter((e) => e.requestId === requestId);
};

describe("guardrail", () => {
  it("names the stack's guardrail version with sync stream processing in every model call", async () => {
    const events = await chat(randomUUID(), "A harmless question");
    expect(events.at(-1)).toMatchObject({ type: "done", stopReason: "end_turn" });
    expect(harness.bedrock.requests[0]!.body!.guardrailConfig).toEqual({ guardrailIdentifier: "gr7x2", guardrailVersion: "3", streamProcessingMode: "sync" });
  });

  it("ends an intervened turn with done/guardrail_intervened, the guardrail's message, metered tokens and a metric", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    let events: Awaited<ReturnType<typeof chat>> = [];
    const emf = await emfWhile(async () => (events = await chat(user, "Give me Investment Advice on tech stocks", conversationId)));
    expect(events[0]).toMatchObject({ type: "start", cached: false });
    expect(events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("")).toBe(BLOCKED);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: "done", stopReason: "guardrail_intervened", cached: false });
    // Metered for what the model reported: the input was read, nothing generated.
    if (done.type !== "done") throw new Error("expected done");
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    expect(done.usage.outputTokens).toBe(0);
    expect(emf).toContainEqual(expect.objectContaining({ GuardrailInterventions: 1, ModelId: MODEL_NOVA_LITE }));

    // History shows what the user saw: the guardrail's message.
    await handleInboundPublish(deps, inboundPublish(user, [{ action: "history", requestId: randomUUID(), conversationId }]));
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "history", turns: [{ role: "user" }, { role: "assistant", text: BLOCKED }] });
  });

  it("intervenes on the fake's directive too, and a plain turn afterwards is answered normally", async () => {
    const user = randomUUID();
    expect((await chat(user, "Anything [[fake:guardrail=intervene]]")).at(-1)).toMatchObject({ stopReason: "guardrail_intervened" });
    expect((await chat(user, "Anything")).at(-1)).toMatchObject({ stopReason: "end_turn" });
  });

  it("sends no guardrail when the stack has none", async () => {
    const none = workerDeps(harness, { guardrail: undefined });
    await handleInboundPublish(none, inboundPublish(randomUUID(), [{ requestId: randomUUID(), conversationId: randomUUID(), message: "investment advice please" }]));
    expect(harness.bedrock.requests[0]!.body!.guardrailConfig).toBeUndefined();
    expect(harness.bedrock.requests[0]!.outcome).toBe("end_turn");
  });
});
