import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cognitoCaller } from "../../functions/lib/appsync/event.js";
import { isCognitoSub } from "../../functions/lib/protocol/channels.js";
import { errorBody, failureName, GatewayError, MAX_ERROR_DETAILS_BYTES, toGatewayError } from "../../functions/lib/protocol/errors.js";
import { parseInboundPayload } from "../../functions/lib/protocol/parse.js";

const id = () => randomUUID();

/** The refusal of a payload: the fields its error names, or "accepted". */
function refusal(payload: Record<string, unknown>, maxInputChars = 100): unknown {
  try {
    parseInboundPayload(JSON.stringify(payload), maxInputChars);
    return "accepted";
  } catch (error) {
    return ((error as GatewayError).extra.details as { fields: unknown[] }).fields;
  }
}

describe("inbound requests, action by action", () => {
  it("defaults the action to chat, which needs a conversation and a message that is not blank", () => {
    expect(parseInboundPayload(JSON.stringify({ requestId: id(), conversationId: id(), message: "hi" }), 100).action).toBe("chat");
    expect(refusal({ requestId: id(), message: "hi" })).toEqual([{ field: "conversationId", problem: 'required for action "chat"' }]);
    expect(refusal({ requestId: id(), conversationId: id(), message: "  \n" })).toEqual([{ field: "message", problem: "required and must not be blank" }]);
    expect(refusal({ requestId: id(), conversationId: id() })).toEqual([{ field: "message", problem: "required and must not be blank" }]);
  });

  it("needs a conversation for history and deleteConversation only", () => {
    expect(refusal({ action: "history", requestId: id() })).toEqual([{ field: "conversationId", problem: 'required for action "history"' }]);
    expect(refusal({ action: "deleteConversation", requestId: id() })).toEqual([{ field: "conversationId", problem: 'required for action "deleteConversation"' }]);
    for (const action of ["usage", "models", "conversations"]) expect(refusal({ action, requestId: id() })).toBe("accepted");
  });

  it("needs the answer to cancel for cancel, and nothing else", () => {
    expect(refusal({ action: "cancel", requestId: id() })).toEqual([{ field: "targetRequestId", problem: 'required for action "cancel"' }]);
    expect(refusal({ action: "cancel", requestId: id(), targetRequestId: id() })).toBe("accepted");
  });

  it("names the rule a field breaks: UUIDs, the stack's message bound, model id and cursor lengths", () => {
    expect(refusal({ action: "usage", requestId: "42" })).toEqual([{ field: "requestId", problem: "must be a UUID" }]);
    expect(refusal({ requestId: id(), conversationId: id(), message: "x".repeat(101) })).toEqual([{ field: "message", problem: "must be at most 100 characters" }]);
    expect(refusal({ action: "models", requestId: id(), modelId: "m".repeat(200), cursor: "c".repeat(2048) })).toBe("accepted");
    expect(refusal({ action: "models", requestId: id(), modelId: "m".repeat(201) })).toEqual([{ field: "modelId", problem: expect.any(String) }]);
    expect(refusal({ action: "models", requestId: id(), modelId: "" })).toEqual([{ field: "modelId", problem: expect.any(String) }]);
    expect(refusal({ action: "conversations", requestId: id(), cursor: "c".repeat(2049) })).toEqual([{ field: "cursor", problem: expect.any(String) }]);
    expect(refusal({ action: "conversations", requestId: id(), cursor: "" })).toEqual([{ field: "cursor", problem: expect.any(String) }]);
  });
});

describe("error events", () => {
  it("carry the conversation, the retry delay (zero included) and details only when there are some", () => {
    const plain = errorBody(new GatewayError("model_unavailable", "The model is busy."));
    expect(plain).toEqual({ type: "error", code: "model_unavailable", message: "The model is busy." });
    const full = errorBody(new GatewayError("rate_limited", "Slow down.", { retryAfterSeconds: 0, details: { limit: 60 } }), "c-1");
    expect(full).toEqual({ type: "error", conversationId: "c-1", code: "rate_limited", message: "Slow down.", retryAfterSeconds: 0, details: { limit: 60 } });
  });

  it("send details up to the byte bound, counted in UTF-8, and a note beyond it", () => {
    const exactly = { text: `${"é".repeat((MAX_ERROR_DETAILS_BYTES - 12) / 2)}a` };
    expect(Buffer.byteLength(JSON.stringify(exactly), "utf8")).toBe(MAX_ERROR_DETAILS_BYTES);
    expect(errorBody(new GatewayError("invalid_request", "Bad.", { details: exactly })).details).toBe(exactly);
    const over = { text: `${exactly.text}é` };
    expect(errorBody(new GatewayError("invalid_request", "Bad.", { details: over })).details).toEqual({ truncated: true });
  });

  it("turn anything thrown into a GatewayError that says nothing about the cause", () => {
    const own = new GatewayError("limit_exceeded", "Out of tokens.");
    expect(toGatewayError(own)).toBe(own);
    const hidden = toGatewayError(new Error("ECONNRESET at 10.0.0.1"));
    expect(hidden).toBeInstanceOf(GatewayError);
    expect(hidden).toMatchObject({ code: "internal_error", message: "Something went wrong on our side. Please try again.", name: "GatewayError" });
  });

  it("name for the logs what failed underneath a GatewayError, else the error itself", () => {
    const throttled = Object.assign(new Error("internal detail"), { name: "ThrottlingException" });
    expect(failureName(new GatewayError("model_throttled", "Busy.", {}, { cause: throttled }))).toBe("ThrottlingException");
    expect(failureName(new GatewayError("cancelled", "Stopped."))).toBe("GatewayError");
    expect(failureName(new TypeError("x"))).toBe("TypeError");
    // A cause that is not an error names nothing rather than failing the log line.
    expect(failureName(new GatewayError("model_error", "Failed.", {}, { cause: null }))).toBeUndefined();
    expect(failureName(null)).toBeUndefined();
  });
});

describe("callers from AppSync identities", () => {
  const sub = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

  it("reads groups from the identity, else from the token's claim as a list or as text", () => {
    expect(cognitoCaller({ identity: { sub, username: "u", groups: ["pro"], claims: { "cognito:groups": ["free"] } } as never })?.groups).toEqual(["pro"]);
    expect(cognitoCaller({ identity: { sub, username: "u", claims: { "cognito:groups": ["pro", 7] } } as never })?.groups).toEqual(["pro"]);
    expect(cognitoCaller({ identity: { sub, username: "u", claims: { "cognito:groups": "pro, free  team" } } as never })?.groups).toEqual(["pro", "free", "team"]);
    expect(cognitoCaller({ identity: { sub, username: "u", claims: { "cognito:groups": " pro," } } as never })?.groups).toEqual(["pro"]);
    expect(cognitoCaller({ identity: { sub, username: "u" } as never })?.groups).toEqual([]);
  });

  it("takes only a whole UUID as a Cognito sub", () => {
    expect(isCognitoSub(sub)).toBe(true);
    expect(isCognitoSub(`x${sub}`)).toBe(false);
    expect(isCognitoSub(`${sub}x`)).toBe(false);
    expect(isCognitoSub(42)).toBe(false);
    // A list holding a sub reads as that sub when turned into text; it is still not one.
    expect(isCognitoSub([sub])).toBe(false);
  });
});
