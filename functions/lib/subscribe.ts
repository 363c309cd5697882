/**
 * onSubscribe for the Outbound namespace: a user may subscribe to `/Outbound-Messages/<sub>`
 * and to nothing else. AppSync treats a returned `{ error }` as a refusal and null as consent.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { cognitoCaller, type AppSyncEventsEvent } from "./appsync/event.js";
import { isOwnChannel, OUTBOUND_NAMESPACE } from "./protocol/channels.js";

export const SUBSCRIPTION_REFUSED = "Unauthorized: you may subscribe only to your own channel.";

export function authorizeSubscription(event: AppSyncEventsEvent, logger: Logger): { error: string } | null {
  const caller = cognitoCaller(event);
  const channel = event.info.channel;
  if (event.info.operation === "SUBSCRIBE" && caller && isOwnChannel(channel.segments, OUTBOUND_NAMESPACE, caller.sub)) {
    return null;
  }
  // The channel path is the caller's own input: log it, but never the token or headers.
  logger.warn("subscription refused", {
    user_id: caller?.sub ?? null,
    channel: channel.path.slice(0, 300),
    operation: event.info.operation,
    source_ip: caller?.sourceIp,
  });
  return { error: SUBSCRIPTION_REFUSED };
}
