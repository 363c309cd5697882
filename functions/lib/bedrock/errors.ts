/**
 * Bedrock failures in protocol terms. The user learns what kind of failure it was and whether
 * to retry; never the exception's own text.
 */
import { GatewayError } from "../protocol/errors.js";

const THROTTLED = new Set(["ThrottlingException", "ServiceQuotaExceededException", "throttlingException"]);
const UNAVAILABLE = new Set([
  "ServiceUnavailableException",
  "serviceUnavailableException",
  "ModelNotReadyException",
  "ModelTimeoutException",
  "InternalServerException",
  "internalServerException",
  "ResourceNotFoundException",
  "AccessDeniedException",
  "TimeoutError",
]);

export function bedrockFailure(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const name = (err as { name?: string } | null)?.name ?? "";
  if (THROTTLED.has(name)) {
    return new GatewayError("model_throttled", "The model is busy right now. Please try again shortly.", {
      retryAfterSeconds: 5,
    });
  }
  if (UNAVAILABLE.has(name)) {
    return new GatewayError("model_unavailable", "The model is unavailable right now. Please try again later.", {
      retryAfterSeconds: 30,
    });
  }
  return new GatewayError("model_error", "The model could not complete this answer.");
}

/** Failures worth retrying with the same request id: nothing was generated or charged. */
export function isRetryable(err: GatewayError): boolean {
  return err.code === "model_throttled" || err.code === "model_unavailable";
}
