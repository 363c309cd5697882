/**
 * Telling users about requests that died before the worker could answer: Lambda's on-failure
 * destination receives the async invocation record (its `requestPayload` is the original
 * AppSync event) when the event was too old or the worker crashed. Each inbound event in it
 * gets one `error` event on its publisher's outbound channel.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { cognitoCaller, type AppSyncEventsEvent } from "./appsync/event.js";
import { outboundChannel } from "./protocol/channels.js";
import { errorBody, GatewayError } from "./protocol/errors.js";
import type { OutboundEvent } from "./protocol/outbound.js";
import { answerAddressOf } from "./protocol/payload.js";
import { MAX_EVENTS_PER_PUBLISH, type Publisher } from "./relay/publisher.js";

interface FailureRecord {
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  requestPayload?: AppSyncEventsEvent;
}

/**
 * A dead letter's error event: clients accept it whatever its seq (the worker may have run).
 * The lost attempt may still hold its request id (a crashed worker's claim lasts until the
 * invocation's timeout), so what works at once is a new request: a new `requestId`.
 */
const lost = (condition: string | undefined) =>
  new GatewayError("internal_error", "Your request was lost before it could be answered. Please send it again as a new request.", {
    retryAfterSeconds: 1,
    details: { deadLettered: true, resend: "new_request_id", ...(condition ? { condition } : {}) },
  });

/** Publishes the error events for one on-failure record; throws if they could not be sent. */
export async function notifyDeadLetter(body: string, publisher: Publisher, logger: Logger): Promise<void> {
  let record: FailureRecord;
  try {
    record = JSON.parse(body) as FailureRecord;
  } catch {
    logger.error("dead letter is not JSON; dropped");
    return;
  }
  const event = record.requestPayload;
  const caller = event ? cognitoCaller(event) : undefined;
  if (!event || !caller) {
    logger.error("dead letter without a Cognito caller; dropped", { condition: record.requestContext?.condition });
    return;
  }
  const errors: OutboundEvent[] = (event.events ?? []).map((e) => {
    const { requestId, conversationId } = answerAddressOf(e);
    return { ...errorBody(lost(record.requestContext?.condition), conversationId), requestId, seq: 0 };
  });
  for (let i = 0; i < errors.length; i += MAX_EVENTS_PER_PUBLISH) {
    await publisher.publish(outboundChannel(caller.sub), errors.slice(i, i + MAX_EVENTS_PER_PUBLISH));
  }
  logger.warn("told the user about a dead-lettered request", {
    user_id: caller.sub,
    condition: record.requestContext?.condition,
    events: errors.length,
  });
}
