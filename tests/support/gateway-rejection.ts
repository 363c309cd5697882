/**
 * The GatewayError a promise rejects with; anything else it rejects with is rethrown, and a
 * promise that resolves fails the test.
 */
import { GatewayError } from "../../functions/lib/protocol/errors.js";

export async function gatewayRejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a GatewayError");
}
