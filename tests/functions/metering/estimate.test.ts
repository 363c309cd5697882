/**
 * The input estimate is reserved before the call, so it must never be below what the model
 * reports for the same text. Checked against the Bedrock-compatible server through the real
 * SDK, over texts where counting characters would fall short.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { converseStream } from "../../../functions/lib/bedrock/converse.js";
import { estimateInputTokens, estimateOutputTokens, tokenBound } from "../../../functions/lib/metering/estimate.js";
import { createLocalBedrockClient, startBedrockServer, type BedrockServer } from "../../../local/bedrock/index.js";
import { MODEL_NOVA_LITE } from "../../support/config-fixtures.js";

let server: BedrockServer;
beforeAll(async () => {
  server = await startBedrockServer();
});
afterAll(() => server?.close());

async function reportedInputTokens(system: string, messages: { role: "user" | "assistant"; text: string }[]): Promise<number> {
  const client = createLocalBedrockClient(server.url);
  try {
    for await (const part of converseStream(client, { modelId: MODEL_NOVA_LITE, system, messages, maxTokens: 1 })) {
      if (part.kind === "usage") return part.usage.inputTokens;
    }
  } finally {
    client.destroy();
  }
  throw new Error("the model reported no usage");
}

const CASES: [string, string, { role: "user" | "assistant"; text: string }[]][] = [
  ["a short English question", "You are a helpful assistant.", [{ role: "user", text: "What is the capital of France?" }]],
  ["no system prompt", "", [{ role: "user", text: "hi" }]],
  ["Japanese, three bytes a character", "日本語で答えてください。", [{ role: "user", text: "東京の人口は何人ですか？".repeat(50) }]],
  ["emoji, four bytes each", "", [{ role: "user", text: "🙂🚀🎉".repeat(200) }]],
  ["a long history", "Be brief.", Array.from({ length: 9 }, (_, i) => ({ role: (i % 2 ? "assistant" : "user") as "user" | "assistant", text: `Turn ${i}: ${"lorem ipsum ".repeat(40)}` }))],
  ["whitespace and punctuation", "", [{ role: "user", text: " ,.;:!?\n\t".repeat(300) }]],
];

describe("input token estimate", () => {
  it.each(CASES)("is never below what the model server reports: %s", async (_name, system, messages) => {
    const estimate = estimateInputTokens(system, messages);
    const reported = await reportedInputTokens(system, messages);
    expect(estimate).toBeGreaterThanOrEqual(reported);
  });

  it("bounds by UTF-8 bytes, not characters, plus the chat template's allowance per message", () => {
    expect(tokenBound("abc")).toBe(3);
    expect(tokenBound("東京")).toBe(6);
    expect(tokenBound("🙂")).toBe(4);
    expect(estimateInputTokens("", [{ text: "abc" }])).toBe(16 + 8 + 3);
    expect(estimateInputTokens("sys", [{ text: "abc" }, { text: "de" }])).toBe(16 + 3 * 8 + 3 + 3 + 2);
  });

  it("settles a stream without a usage report at its bytes, never above what the model was allowed", () => {
    expect(estimateOutputTokens(12, 100)).toBe(12);
    expect(estimateOutputTokens(500, 100)).toBe(100);
  });
});
