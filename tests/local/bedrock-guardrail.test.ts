/**
 * The model server's guardrail behaviour, through the real Bedrock Runtime SDK: interventions
 * reported the way ConverseStream reports them, unknown guardrails refused.
 */
import { ConverseStreamCommand, type ConverseStreamCommandInput } from "@aws-sdk/client-bedrock-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalBedrockClient, DEFAULT_BLOCKED_MESSAGE, startBedrockServer, type BedrockServer } from "../../local/bedrock/index.js";

const MODEL = "us.amazon.nova-lite-v1:0";
let server: BedrockServer;
let client: ReturnType<typeof createLocalBedrockClient>;
beforeAll(async () => {
  server = await startBedrockServer({ guardrails: [{ id: "gr1", versions: ["2"], deniedTopics: ["crypto trading"], blockedMessage: "Not here." }] });
  client = createLocalBedrockClient(server.url, { maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
});

async function stream(text: string, guardrailConfig?: ConverseStreamCommandInput["guardrailConfig"]) {
  const response = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text }] }], guardrailConfig }));
  const events = [];
  for await (const event of response.stream ?? []) events.push(event);
  return events;
}

describe("model server guardrails", () => {
  it("intervenes on a denied topic: the blocked message, stopReason guardrail_intervened, no output tokens, a trace when asked", async () => {
    const events = await stream("Tell me about Crypto Trading tips", { guardrailIdentifier: "gr1", guardrailVersion: "2", streamProcessingMode: "sync", trace: "enabled" });
    expect(events.flatMap((e) => (e.contentBlockDelta?.delta?.text ? [e.contentBlockDelta.delta.text] : [])).join("")).toBe("Not here.");
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("guardrail_intervened");
    const metadata = events.find((e) => e.metadata)!.metadata!;
    expect(metadata.usage).toMatchObject({ outputTokens: 0 });
    expect(metadata.usage!.inputTokens).toBeGreaterThan(0);
    expect(metadata.trace?.guardrail?.inputAssessment?.gr1?.topicPolicy?.topics?.[0]).toMatchObject({ name: "crypto trading", action: "BLOCKED" });
  });

  it("answers normally through a guardrail when nothing is denied", async () => {
    const events = await stream("Tell me about gardening", { guardrailIdentifier: "gr1", guardrailVersion: "2" });
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("end_turn");
  });

  it("refuses a guardrail or version it does not know with a ValidationException", async () => {
    await expect(stream("hi", { guardrailIdentifier: "gr9", guardrailVersion: "1" })).rejects.toMatchObject({ name: "ValidationException" });
    await expect(stream("hi", { guardrailIdentifier: "gr1", guardrailVersion: "7" })).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("lets the directive force an intervention, but only when the request names a guardrail", async () => {
    const forced = await stream("hi [[fake:guardrail=intervene]]", { guardrailIdentifier: "gr1", guardrailVersion: "DRAFT" });
    expect(forced.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("guardrail_intervened");
    const without = await stream("hi [[fake:guardrail=intervene]]");
    expect(without.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("end_turn");
  });

  it("uses Bedrock's default blocked message for an unregistered guardrail on a server without a registry", async () => {
    const open = await startBedrockServer();
    const openClient = createLocalBedrockClient(open.url);
    try {
      const response = await openClient.send(
        new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text: "x [[fake:guardrail=intervene]]" }] }], guardrailConfig: { guardrailIdentifier: "any", guardrailVersion: "1" } }),
      );
      let text = "";
      for await (const event of response.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? "";
      expect(text).toBe(DEFAULT_BLOCKED_MESSAGE);
    } finally {
      openClient.destroy();
      await open.close();
    }
  });
});
