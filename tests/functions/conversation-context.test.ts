/**
 * What the model receives for a turn (functions/lib/conversations/context.ts), as pure
 * functions: the conversations tests check the same through the worker and the fake model;
 * these pin the arithmetic at its edges (a turn that fits exactly, one token more).
 */
import { describe, expect, it } from "vitest";
import { contextTokensOf, DEFAULT_CONTEXT_TOKENS, turnMessages } from "../../functions/lib/conversations/context.js";
import type { StoredTurn } from "../../functions/lib/conversations/store.js";

const turn = (userText: string, assistantText: string): StoredTurn => ({
  requestId: `r-${userText}`,
  at: "2025-03-09T12:00:00.000Z",
  userText,
  assistantText,
  modelId: "m",
  stopReason: "end_turn",
});
const config = (maxTurns = 20, systemPrompt = "") => ({ systemPrompt, history: { maxTurns, ttlDays: 30 } });
const texts = (messages: { role: string; text: string }[]) => messages.map((m) => `${m.role}:${m.text}`);

describe("context token count", () => {
  it("counts one token per started 3 bytes of UTF-8 plus a message's template overhead", () => {
    expect(contextTokensOf("")).toBe(4);
    expect(contextTokensOf("abc")).toBe(5);
    expect(contextTokensOf("abcd")).toBe(6);
    // Bytes, not characters: "é" is 2 bytes, "日本" 6.
    expect(contextTokensOf("é")).toBe(5);
    expect(contextTokensOf("日本")).toBe(6);
  });
});

describe("the messages of a model call", () => {
  it("sends the new message alone when there is no history", () => {
    expect(turnMessages(config(), {}, 100, [], "hi")).toEqual([{ role: "user", text: "hi" }]);
  });

  it("sends stored turns oldest first, user and assistant alternating, then the new message", () => {
    const history = [turn("one", "1"), turn("two", "2")];
    expect(texts(turnMessages(config(), {}, 100, history, "three"))).toEqual(["user:one", "assistant:1", "user:two", "assistant:2", "user:three"]);
  });

  it("keeps the newest history.maxTurns turns", () => {
    const history = [turn("one", "1"), turn("two", "2"), turn("three", "3")];
    expect(texts(turnMessages(config(2), {}, 100, history, "four"))).toEqual(["user:two", "assistant:2", "user:three", "assistant:3", "user:four"]);
  });

  it("leaves out turns with no answer, without counting them against maxTurns", () => {
    const history = [turn("one", "1"), turn("two", "2"), turn("stopped", " \n"), turn("four", "4")];
    expect(texts(turnMessages(config(2), {}, 100, history, "five"))).toEqual(["user:two", "assistant:2", "user:four", "assistant:4", "user:five"]);
  });

  describe("within the model's context window", () => {
    // Window 100, maxTokens 50, no system prompt (4), new message "hi" (5): 41 tokens for history.
    const model = { contextTokens: 100 };
    // A turn with an empty question (4) and an answer of `bytes` bytes (ceil(bytes / 3) + 4).
    const sized = (bytes: number, letter = "a") => turn("", letter.repeat(bytes));

    it("sends a turn that fills the room exactly and drops one a token larger", () => {
      expect(turnMessages(config(), model, 50, [sized(99)], "hi")).toHaveLength(3);
      expect(turnMessages(config(), model, 50, [sized(100)], "hi")).toHaveLength(1);
    });

    it("counts the system prompt, the new message and maxTokens against the room", () => {
      expect(turnMessages(config(20, "abc"), model, 50, [sized(99)], "hi")).toHaveLength(1);
      expect(turnMessages(config(), model, 50, [sized(99)], "hi!!")).toHaveLength(1);
      expect(turnMessages(config(), model, 51, [sized(99)], "hi")).toHaveLength(1);
      expect(turnMessages(config(), model, 49, [sized(102)], "hi")).toHaveLength(3);
    });

    it("takes each kept turn out of the room, and sends no older turn once one does not fit", () => {
      // The newest fills the room: the small one before it no longer fits.
      const filled = turnMessages(config(), model, 50, [sized(1, "o"), sized(99, "n")], "hi");
      expect(filled).toHaveLength(3);
      expect(filled[1]).toEqual({ role: "assistant", text: "n".repeat(99) });
      // The newest does not fit: the small one before it is not sent either (no gaps in a conversation).
      expect(turnMessages(config(), model, 50, [sized(1, "o"), sized(100, "n")], "hi")).toEqual([{ role: "user", text: "hi" }]);
    });

    it("assumes DEFAULT_CONTEXT_TOKENS for a model whose context window is not set", () => {
      // Room: 32000 - 31950 - 4 - 5 = 41, as above.
      const maxTokens = DEFAULT_CONTEXT_TOKENS - 50;
      expect(turnMessages(config(), {}, maxTokens, [sized(99)], "hi")).toHaveLength(3);
      expect(turnMessages(config(), {}, maxTokens, [sized(100)], "hi")).toHaveLength(1);
    });
  });
});
