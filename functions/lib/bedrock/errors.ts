/**
 * Bedrock failures in protocol terms. The user learns what kind of failure it was and whether
 * to retry; never the exception's own text.
 */
import { GatewayError } from "../protocol/errors.js";

/** The gateway's own failure of a stream that went silent (converse.ts's idle timer). */
export const MODEL_IDLE_TIMEOUT = "ModelIdleTimeout";

const THROTTLED = new Set(["ThrottlingException", "ServiceQuotaExceededException", "throttlingException"]);
const UNAVAILABLE = new Set([
  "ServiceUnavailableException",
  "serviceUnavailableException",
  "ModelNotReadyException",
  "ModelTimeoutException",
  "InternalServerException",
  "internalServerException",
  "ResourceNotFoundException",
  "TimeoutError",
  MODEL_IDLE_TIMEOUT,
]);
/**
 * The account may not call the model: a third-party model not yet subscribed through AWS
 * Marketplace, Anthropic's first-use form not submitted, or IAM/SCPs denying it. Only an
 * administrator can fix that, so it is a configuration error, not an outage.
 */
const NOT_ENABLED = new Set(["AccessDeniedException"]);

/** `details.reason` of a model the gateway's account cannot use. */
export const MODEL_NOT_ENABLED = "model_not_enabled";

export function bedrockFailure(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const name = (err as { name?: string } | null)?.name ?? "";
  // The exception stays underneath for the logs (failureName); the user sees only the code and message.
  const cause = { cause: err };
  if (THROTTLED.has(name)) {
    return new GatewayError("model_throttled", "The model is busy right now. Please try again shortly.", { retryAfterSeconds: 5 }, cause);
  }
  if (NOT_ENABLED.has(name)) {
    return new GatewayError(
      "model_unavailable",
      "This model is not enabled on this gateway. Please choose another model or contact the gateway's administrator.",
      { details: { reason: MODEL_NOT_ENABLED } },
      cause,
    );
  }
  if (UNAVAILABLE.has(name)) {
    return new GatewayError("model_unavailable", "The model is unavailable right now. Please try again later.", { retryAfterSeconds: 30 }, cause);
  }
  return new GatewayError("model_error", "The model could not complete this answer.", {}, cause);
}

export function isModelNotEnabled(err: GatewayError): boolean {
  return err.code === "model_unavailable" && err.extra.details?.reason === MODEL_NOT_ENABLED;
}

/**
 * Failures worth retrying with the same request id: nothing was generated or charged, and
 * trying again later may succeed. A model that is not enabled stays so until an
 * administrator acts.
 */
export function isRetryable(err: GatewayError): boolean {
  return err.code === "model_throttled" || (err.code === "model_unavailable" && !isModelNotEnabled(err));
}

/**
 * Failures another model may not share, so a request that named no model falls back: the
 * retryable ones and a model this account cannot use. Never the turn's deadline.
 */
export function warrantsFallback(err: GatewayError): boolean {
  return (isRetryable(err) || isModelNotEnabled(err)) && err.extra.details?.reason !== DEADLINE_REASON;
}

/** `details.reason` of a turn stopped at the invocation's deadline. */
export const DEADLINE_REASON = "deadline";
