/**
 * The edge: an inbound event's payload becomes a typed request, or an `invalid_request`
 * GatewayError that says which fields are wrong (never the raw input). What it says is
 * bounded: a payload may hold a field name of 200 KB, and the error event that names it must
 * still fit in one AppSync event.
 */
import { GatewayError } from "./errors.js";
import { inboundRequestSchema, type InboundRequest } from "./inbound.js";
import { payloadValue } from "./payload.js";

/** Fields named in one error; the rest are counted. */
export const MAX_REPORTED_FIELDS = 10;
/** Characters of a field name (the client's own text) repeated back. */
export const MAX_FIELD_NAME_CHARS = 64;

const MAX_PROBLEM_CHARS = 200;

const schemas = new Map<number, ReturnType<typeof inboundRequestSchema>>();

export function parseInboundPayload(payload: unknown, maxInputChars: number): InboundRequest {
  const value = payloadValue(payload);
  if (value === undefined && typeof payload === "string") throw new GatewayError("invalid_request", "The message is not valid JSON.");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError("invalid_request", "The message must be a JSON object.");
  }
  let schema = schemas.get(maxInputChars);
  if (!schema) schemas.set(maxInputChars, (schema = inboundRequestSchema(maxInputChars)));
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ field: clip(key), problem: "unknown field" }))
      : [{ field: clip(issue.path.join(".")) || "(message)", problem: clip(issue.message, MAX_PROBLEM_CHARS) }],
  );
  const reported = fields.slice(0, MAX_REPORTED_FIELDS);
  const more = fields.length - reported.length;
  const names = reported.map((f) => f.field).join(", ") + (more > 0 ? ` and ${more} more` : "");
  throw new GatewayError("invalid_request", `The message has invalid fields: ${names}.`, {
    details: { fields: reported, ...(more > 0 ? { moreFields: more } : {}) },
  });
}

/** A client-chosen name, shortened to what an error may repeat. */
function clip(text: string, max = MAX_FIELD_NAME_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
