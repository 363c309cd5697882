/**
 * Protocol v1's inbound rules as a client reads them: which action needs which field, and the
 * problem sentence each refusal carries in `details.fields` (protocol-bounds.test.ts pins the
 * limits and the error's size).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { GatewayError } from "../../functions/lib/protocol/errors.js";
import { INBOUND_ACTIONS } from "../../functions/lib/protocol/inbound.js";
import { parseInboundPayload } from "../../functions/lib/protocol/parse.js";

const MAX_INPUT = 100;
const parse = (payload: Record<string, unknown>) => parseInboundPayload(payload, MAX_INPUT);
/** The `details.fields` of the refusal of `payload`. */
function problems(payload: Record<string, unknown>): { field: string; problem: string }[] {
  try {
    parse(payload);
  } catch (err) {
    return (err as GatewayError).extra.details!.fields as { field: string; problem: string }[];
  }
  throw new Error("expected a refusal");
}

describe("inbound actions and the fields they need", () => {
  it("treats a message without an action as a chat turn", () => {
    const request = parse({ requestId: randomUUID(), conversationId: randomUUID(), message: "hi" });
    expect(request.action).toBe("chat");
  });

  it.each(["chat", "history", "deleteConversation"] as const)("requires a conversationId for %s, saying which action needs it", (action) => {
    expect(problems({ action, requestId: randomUUID(), message: "hi" })).toEqual([{ field: "conversationId", problem: `required for action "${action}"` }]);
  });

  it.each(["usage", "models", "conversations"] as const)("answers %s without a conversationId", (action) => {
    expect(parse({ action, requestId: randomUUID() }).action).toBe(action);
  });

  it("requires a cancel to name the request it stops", () => {
    expect(problems({ action: "cancel", requestId: randomUUID() })).toEqual([{ field: "targetRequestId", problem: 'required for action "cancel"' }]);
    const targetRequestId = randomUUID();
    expect(parse({ action: "cancel", requestId: randomUUID(), targetRequestId }).targetRequestId).toBe(targetRequestId);
  });

  it.each([undefined, "", "  \n "])("refuses a chat turn whose message is %j", (message) => {
    expect(problems({ requestId: randomUUID(), conversationId: randomUUID(), message })).toEqual([{ field: "message", problem: "required and must not be blank" }]);
  });

  it("lets other actions omit the message", () => {
    for (const action of INBOUND_ACTIONS.filter((a) => a !== "chat")) {
      const payload = { action, requestId: randomUUID(), conversationId: randomUUID(), targetRequestId: randomUUID() };
      expect(parse(payload).message).toBeUndefined();
    }
  });
});

describe("problem sentences", () => {
  it("says a message is too long in the stack's own limit", () => {
    // A limit no other test uses: the parser builds one schema per limit and keeps it.
    const limit = 42;
    const payload = { requestId: randomUUID(), conversationId: randomUUID(), message: "x".repeat(limit + 1) };
    expect(() => parseInboundPayload(payload, limit)).toThrow(expect.objectContaining({ extra: { details: { fields: [{ field: "message", problem: "must be at most 42 characters" }] } } }));
  });

  it("says an id must be a UUID", () => {
    expect(problems({ requestId: "42", conversationId: randomUUID(), message: "hi" })).toEqual([{ field: "requestId", problem: "must be a UUID" }]);
  });

  it("words type and range problems as zod does, in English", () => {
    expect(problems({ requestId: randomUUID(), conversationId: randomUUID(), message: "hi", maxTokens: "many", temperature: 2, action: "sing" })).toEqual([
      { field: "action", problem: expect.stringMatching(/^Invalid option: expected one of "chat"\|"usage"/) },
      { field: "maxTokens", problem: "Invalid input: expected number, received string" },
      { field: "temperature", problem: "Too big: expected number to be <=1" },
    ]);
  });
});
