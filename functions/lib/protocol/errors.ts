/**
 * The gateway's one error type. Its `code` is the protocol's stable error code; its message is
 * written for humans and is what the user sees, so it never carries exception text.
 */
export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "model_not_allowed",
  "limit_exceeded",
  "concurrency_limit",
  "rate_limited",
  "model_throttled",
  "model_unavailable",
  "model_error",
  "cancelled",
  "internal_error",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { retryAfterSeconds?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "GatewayError";
  }
}

/** Anything thrown becomes a GatewayError; unknown failures say nothing about their cause. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal_error", "Something went wrong on our side. Please try again.");
}

/** The protocol's `error` event body for a failure. */
export function errorBody(failure: GatewayError, conversationId?: string) {
  return {
    type: "error" as const,
    ...(conversationId ? { conversationId } : {}),
    code: failure.code,
    message: failure.message,
    ...failure.extra,
  };
}
