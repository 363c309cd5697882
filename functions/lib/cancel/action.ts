/**
 * The `cancel` action: asks the caller's own running answer to stop and says whether one was
 * running. The answer itself ends with `done`, `stopReason: "cancelled"`, on its own request
 * id; this acknowledgement is not an error, because cancelling is never a failure: a finished
 * or unknown request is simply `not_running` (see docs/decisions.md, Cancel).
 */
import type { OutboundBody } from "../protocol/outbound.js";
import type { RunningAnswers } from "./runs.js";

export async function cancelAnswer(runs: RunningAnswers, userId: string, targetRequestId: string): Promise<OutboundBody> {
  const status = await runs.requestCancel(userId, targetRequestId);
  return { type: "cancel", targetRequestId, status };
}
