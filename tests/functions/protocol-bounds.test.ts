import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bedrockFailure, DEADLINE_REASON, isRetryable, warrantsFallback } from "../../functions/lib/bedrock/errors.js";
import { cognitoCaller } from "../../functions/lib/appsync/event.js";
import { isOwnChannel } from "../../functions/lib/protocol/channels.js";
import { errorBody, GatewayError, MAX_ERROR_DETAILS_BYTES, MAX_ERROR_MESSAGE_CHARS } from "../../functions/lib/protocol/errors.js";
import { MAX_FIELD_NAME_CHARS, MAX_REPORTED_FIELDS, parseInboundPayload } from "../../functions/lib/protocol/parse.js";
import { answerAddressOf, MAX_ECHOED_ID_CHARS } from "../../functions/lib/protocol/payload.js";

const MAX_INPUT = 100;
const chat = (extra: Record<string, unknown> = {}) => ({ requestId: randomUUID(), conversationId: randomUUID(), message: "hi", ...extra });
const parse = (payload: unknown) => parseInboundPayload(payload, MAX_INPUT);
const refusal = (payload: unknown): GatewayError => {
  try {
    parse(payload);
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected a refusal");
};

describe("inbound bounds, on both sides of each limit", () => {
  it.each([
    ["temperature", 0, -0.01],
    ["temperature", 1, 1.000001],
    ["maxTokens", 1, 0],
    ["message", "x".repeat(MAX_INPUT), "x".repeat(MAX_INPUT + 1)],
    ["modelId", "m".repeat(200), "m".repeat(201)],
  ])("accepts %s at %j and refuses it just past", (field, accepted, refused) => {
    expect(parse(chat({ [field]: accepted }))[field as "message"]).toBe(accepted);
    expect(refusal(chat({ [field]: refused }))).toMatchObject({ code: "invalid_request", extra: { details: { fields: [expect.objectContaining({ field })] } } });
  });

  it.each([["requestId"], ["conversationId"]])("refuses a %s that only starts or ends with a UUID", (field) => {
    const id = randomUUID();
    for (const bad of [`${id}x`, `x${id}`, `${id}\n`, id.replace(/-/g, "")]) {
      expect(refusal(chat({ [field]: bad })).extra.details).toEqual({ fields: [expect.objectContaining({ field })] });
    }
    expect(parse(chat({ [field]: id.toUpperCase() }))[field as "requestId"]).toBe(id.toUpperCase());
  });

  it("refuses a whitespace-only chat message", () => {
    expect(refusal(chat({ message: " \n\t " })).extra.details).toEqual({ fields: [expect.objectContaining({ field: "message" })] });
  });

  it("names at most ten bad fields, each clipped, and counts the rest", () => {
    const unknown = Object.fromEntries(Array.from({ length: MAX_REPORTED_FIELDS + 3 }, (_, i) => [`${i}`.padEnd(MAX_FIELD_NAME_CHARS + 10, "z"), 1]));
    const error = refusal(chat(unknown));
    const fields = error.extra.details!.fields as { field: string }[];
    expect(fields).toHaveLength(MAX_REPORTED_FIELDS);
    expect(fields.every((f) => f.field.length === MAX_FIELD_NAME_CHARS && f.field.endsWith("…"))).toBe(true);
    expect(error.extra.details!.moreFields).toBe(3);
    expect(error.message).toMatch(/and 3 more\.$/);
  });

  it("reads a payload given as a JSON string like the same payload given parsed", () => {
    const request = chat({ maxTokens: 5 });
    expect(parse(JSON.stringify(request))).toEqual(parse(request));
  });

  it("says the message is not JSON when the string does not parse", () => {
    for (const payload of ["{", "", "{\"requestId\": }"]) {
      expect(refusal(payload)).toMatchObject({ code: "invalid_request", message: "The message is not valid JSON." });
    }
  });

  it.each([["missing", undefined], ["a number", 7], ["null", null], ["an array", [chat()]], ["a JSON string", JSON.stringify("hi")], ["JSON null", "null"], ["a JSON array", "[]"], ["a boolean", true]])(
    "says the message must be an object when it is %s",
    (_what, payload) => {
      expect(refusal(payload)).toMatchObject({ code: "invalid_request", message: "The message must be a JSON object." });
    },
  );

  it("names the bad fields in its message, comma-separated, with nothing more to count", () => {
    const error = refusal(chat({ temperature: 2, maxTokens: 0 }));
    expect(error.message).toBe("The message has invalid fields: maxTokens, temperature.");
    expect(error.extra.details).toEqual({ fields: [expect.objectContaining({ field: "maxTokens" }), expect.objectContaining({ field: "temperature" })] });
  });

  it("names a field of exactly the clip length in full", () => {
    const name = "n".repeat(MAX_FIELD_NAME_CHARS);
    expect(refusal(chat({ [name]: 1 })).extra.details).toEqual({ fields: [{ field: name, problem: "unknown field" }] });
  });
});

describe("error event size", () => {
  it("clips a message longer than the limit and keeps one at the limit", () => {
    const atLimit = "m".repeat(MAX_ERROR_MESSAGE_CHARS);
    expect(errorBody(new GatewayError("internal_error", atLimit)).message).toBe(atLimit);
    const clipped = errorBody(new GatewayError("internal_error", `${atLimit}!`)).message;
    expect(clipped).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
    expect(clipped.endsWith("…")).toBe(true);
  });

  it("replaces details that would not fit, and keeps details that do", () => {
    const fits = { note: "d".repeat(MAX_ERROR_DETAILS_BYTES - 20) };
    expect(errorBody(new GatewayError("invalid_request", "bad", { details: fits })).details).toEqual(fits);
    const tooBig = { note: "d".repeat(MAX_ERROR_DETAILS_BYTES) };
    expect(errorBody(new GatewayError("invalid_request", "bad", { details: tooBig })).details).toEqual({ truncated: true });
  });
});

describe("the address of an answer", () => {
  it("reads requestId and conversationId from an object or a JSON string alike", () => {
    const ids = { requestId: randomUUID(), conversationId: randomUUID() };
    expect(answerAddressOf({ id: "e1", payload: ids })).toEqual(ids);
    expect(answerAddressOf({ id: "e1", payload: JSON.stringify(ids) })).toEqual(ids);
  });

  it("echoes ids up to the limit and falls back to the event id past it", () => {
    const atLimit = "r".repeat(MAX_ECHOED_ID_CHARS);
    expect(answerAddressOf({ id: "e1", payload: { requestId: atLimit } })).toEqual({ requestId: atLimit });
    expect(answerAddressOf({ id: "e1", payload: { requestId: `${atLimit}r`, conversationId: `${atLimit}c` } })).toEqual({ requestId: "e1" });
  });

  it.each([["not JSON", "{"], ["an array", [{ requestId: "r" }]], ["null", null], ["a number id", { requestId: 7 }], ["an empty id", { requestId: "" }]])(
    "falls back to the event id for %s",
    (_what, payload) => {
      expect(answerAddressOf({ id: "e1", payload })).toEqual({ requestId: "e1" });
    },
  );
});

describe("own channels", () => {
  const sub = randomUUID();
  it("accepts exactly /<namespace>/<sub> for a Cognito sub", () => {
    expect(isOwnChannel(["Inbound-Messages", sub], "Inbound-Messages", sub)).toBe(true);
  });
  it.each([
    ["a wildcard sub naming a wildcard channel", ["Inbound-Messages", "*"], "*"],
    ["a non-UUID sub naming its own channel", ["Inbound-Messages", "alice"], "alice"],
    ["an extra segment", ["Inbound-Messages", sub, "x"], sub],
    ["a case variant of the sub", ["Inbound-Messages", sub.toUpperCase()], sub],
    ["another namespace", ["Outbound-Messages", sub], sub],
  ])("refuses %s", (_what, segments, caller) => {
    expect(isOwnChannel(segments, "Inbound-Messages", caller)).toBe(false);
  });
});

describe("Bedrock failures", () => {
  it("treats AccessDeniedException as a model not enabled: no retry under the same id, but a fallback may answer", () => {
    const failure = bedrockFailure({ name: "AccessDeniedException" });
    expect(failure).toMatchObject({ code: "model_unavailable", extra: { details: { reason: "model_not_enabled" } } });
    expect(failure.extra.retryAfterSeconds).toBeUndefined();
    expect(isRetryable(failure)).toBe(false);
    expect(warrantsFallback(failure)).toBe(true);
  });

  it("never falls back from the turn's deadline", () => {
    const deadline = new GatewayError("model_unavailable", "late", { retryAfterSeconds: 30, details: { reason: DEADLINE_REASON } });
    expect(warrantsFallback(deadline)).toBe(false);
    expect(warrantsFallback(bedrockFailure({ name: "ThrottlingException" }))).toBe(true);
    expect(warrantsFallback(bedrockFailure({ name: "ValidationException" }))).toBe(false);
  });
});

describe("the Cognito caller of an event", () => {
  const sub = randomUUID();
  it("takes groups from identity.groups, else from the token's cognito:groups claim in either form", () => {
    expect(cognitoCaller({ identity: { sub, groups: ["pro"], claims: { "cognito:groups": ["other"] } } })?.groups).toEqual(["pro"]);
    expect(cognitoCaller({ identity: { sub, groups: null, claims: { "cognito:groups": ["pro", 7] } } })?.groups).toEqual(["pro"]);
    expect(cognitoCaller({ identity: { sub, groups: null, claims: { "cognito:groups": "pro, team beta" } } })?.groups).toEqual(["pro", "team", "beta"]);
    expect(cognitoCaller({ identity: { sub, groups: null, claims: {} } })?.groups).toEqual([]);
  });

  it.each([["an IAM identity", { accountId: "123", userArn: "arn:aws:iam::123:role/x" }], ["no identity", null], ["a wildcard sub", { sub: "*" }], ["a sub with a suffix", { sub: `${sub}x` }]])(
    "is none for %s",
    (_what, identity) => {
      expect(cognitoCaller({ identity })).toBeUndefined();
    },
  );
});
