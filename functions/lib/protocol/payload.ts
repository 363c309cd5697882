/**
 * Reading an inbound event's payload before (or without) validating it. AppSync hands the
 * payload over as a JSON string or as a parsed value; the worker and the dead-letter consumer
 * read it here, the same way, so both answer under the same `requestId` and `conversationId`.
 */

/** Longest client id the gateway echoes back; the schema wants a UUID (36 characters). */
export const MAX_ECHOED_ID_CHARS = 100;

/** The payload as a value: a JSON string parsed, anything else as given; undefined if unparseable. */
export function payloadValue(payload: unknown): unknown {
  if (typeof payload !== "string") return payload;
  try {
    return JSON.parse(payload);
  } catch {
    return undefined;
  }
}

/** The ids an answer to an event is addressed with, whether or not the event is valid. */
export interface AnswerAddress {
  /** The client's `requestId` when usable, else AppSync's event id. */
  requestId: string;
  /** The client's `conversationId` when usable. */
  conversationId?: string;
}

export function answerAddressOf(event: { id: string; payload: unknown }): AnswerAddress {
  const value = payloadValue(event.payload);
  const fields = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const requestId = echoableId(fields.requestId) ?? event.id;
  const conversationId = echoableId(fields.conversationId);
  return conversationId ? { requestId, conversationId } : { requestId };
}

/** A client id short enough to echo in every event; anything else is not echoed. */
function echoableId(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ECHOED_ID_CHARS ? value : undefined;
}
