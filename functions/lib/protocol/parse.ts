/**
 * The edge: an inbound event's payload becomes a typed request, or an `invalid_request`
 * GatewayError that says which fields are wrong (never the raw input).
 */
import { GatewayError } from "./errors.js";
import { inboundRequestSchema, type InboundRequest } from "./inbound.js";

const schemas = new Map<number, ReturnType<typeof inboundRequestSchema>>();

export function parseInboundPayload(payload: unknown, maxInputChars: number): InboundRequest {
  let value = payload;
  if (typeof payload === "string") {
    try {
      value = JSON.parse(payload);
    } catch {
      throw new GatewayError("invalid_request", "The message is not valid JSON.");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError("invalid_request", "The message must be a JSON object.");
  }
  let schema = schemas.get(maxInputChars);
  if (!schema) schemas.set(maxInputChars, (schema = inboundRequestSchema(maxInputChars)));
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.join(".") || (issue.code === "unrecognized_keys" ? issue.keys.join(",") : "(message)"),
    problem: issue.code === "unrecognized_keys" ? "unknown field" : issue.message,
  }));
  throw new GatewayError("invalid_request", `The message has invalid fields: ${fields.map((f) => f.field).join(", ")}.`, {
    details: { fields },
  });
}
