/**
 * The protocol's stable error codes. A file of its own, free of Node APIs, so the web app
 * type-checks against it too.
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
