/**
 * The gateway's one error type. Its `code` is the protocol's stable error code; its message is
 * written for humans and is what the user sees, so it never carries exception text.
 */
import type { ErrorCode } from "./error-codes.js";

export { ERROR_CODES, type ErrorCode } from "./error-codes.js";

/**
 * Bounds of one error event, far below AppSync's 240 KB per event: whatever a failure carries
 * (names and lists taken from the client's input included), its error event is delivered.
 */
export const MAX_ERROR_MESSAGE_CHARS = 500;
export const MAX_ERROR_DETAILS_BYTES = 8 * 1024;

export class GatewayError extends Error {
  /**
   * `options.cause`: the failure underneath (a Bedrock exception), for the operator's logs
   * (`failureName`); never part of the error event.
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { retryAfterSeconds?: number; details?: Record<string, unknown> } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "GatewayError";
  }
}

/**
 * What a log line's `error_name` says of a failure: the name of what failed underneath a
 * GatewayError (the SDK's exception: ThrottlingException, ValidationException, ...), else the
 * error's own name. Never its message.
 */
export function failureName(err: unknown): string | undefined {
  const underneath = err instanceof GatewayError && err.cause !== undefined ? err.cause : err;
  return (underneath as { name?: string } | null | undefined)?.name;
}

/** Anything thrown becomes a GatewayError; unknown failures say nothing about their cause. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal_error", "Something went wrong on our side. Please try again.");
}

/** The protocol's `error` event body for a failure, bounded in size whatever it carries. */
export function errorBody(failure: GatewayError, conversationId?: string) {
  const message =
    failure.message.length <= MAX_ERROR_MESSAGE_CHARS ? failure.message : `${failure.message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
  const { details, retryAfterSeconds } = failure.extra;
  return {
    type: "error" as const,
    ...(conversationId ? { conversationId } : {}),
    code: failure.code,
    message,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    ...(details ? { details: boundedDetails(details) } : {}),
  };
}

/** Details that would not fit are replaced by a note saying so, never sent oversized. */
function boundedDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Buffer.byteLength(JSON.stringify(details), "utf8") <= MAX_ERROR_DETAILS_BYTES ? details : { truncated: true };
}
