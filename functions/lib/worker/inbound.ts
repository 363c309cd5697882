/**
 * The chat worker's entry logic: every event of an inbound publish becomes exactly one outcome
 * on the publisher's own outbound channel: an answer, or one `error` event. Nothing here
 * throws; a failure is the user's `error` event and a log line.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { AppSyncEventsEvent, Caller } from "../appsync/event.js";
import { cognitoCaller } from "../appsync/event.js";
import { MetricUnit, METRIC } from "../observability/metrics.js";
import { INBOUND_NAMESPACE, isOwnChannel, outboundChannel } from "../protocol/channels.js";
import { errorBody, GatewayError, toGatewayError } from "../protocol/errors.js";
import { parseInboundPayload } from "../protocol/parse.js";
import type { ChatRequest, InboundRequest } from "../protocol/inbound.js";
import type { OutboundEvent } from "../protocol/outbound.js";
import { ResponseRelay } from "../relay/relay.js";
import { allowedModels, defaultModelFor, resolveTier, type ResolvedTier } from "../routing/tier.js";
import { cancelAnswer } from "../cancel/action.js";
import { conversationHistory, deleteConversation, listConversations } from "../conversations/actions.js";
import { answerChat, RetryableFailure } from "./chat.js";
import type { WorkerDeps } from "./deps.js";

/** What the worker knows of the invocation it runs in. */
export interface Invocation {
  /** Milliseconds until Lambda cuts the invocation off. */
  remainingTimeMs(): number;
}

export async function handleInboundPublish(deps: WorkerDeps, event: AppSyncEventsEvent, invocation?: Invocation): Promise<void> {
  const caller = cognitoCaller(event);
  const events = event.events ?? [];
  deps.metrics.addMetric(METRIC.inboundEvents, MetricUnit.Count, events.length);
  if (!caller) {
    // Inbound publishes need a user-pool token, so AppSync never sends this; with no sub there
    // is no channel to answer on.
    deps.logger.error("inbound publish without a Cognito identity", { channel: event.info.channel.path });
    return;
  }
  const ownChannel = isOwnChannel(event.info.channel.segments, INBOUND_NAMESPACE, caller.sub);
  await Promise.all(events.map((e) => handleInboundEvent(deps, caller, ownChannel, e, invocation)));
}

async function handleInboundEvent(
  deps: WorkerDeps,
  caller: Caller,
  ownChannel: boolean,
  event: { id: string; payload: unknown },
  invocation: Invocation | undefined,
): Promise<void> {
  const requestId = requestIdOf(event);
  const log = deps.logger.createChild();
  log.appendKeys({ correlation_id: requestId, request_id: requestId, user_id: caller.sub, appsync_event_id: event.id });
  const relay = new ResponseRelay(deps.publisher, outboundChannel(caller.sub), requestId, {
    flushIntervalMs: deps.config.relay.flushIntervalMs,
  });
  let conversationId: string | undefined;
  try {
    if (!ownChannel) throw new GatewayError("unauthorized", "You can only publish to your own inbound channel.");
    const request = parseInboundPayload(event.payload, deps.config.maxInputChars);
    conversationId = request.conversationId;
    const tier = resolveTier(deps.config, caller.groups);
    log.appendKeys({ action: request.action, conversation_id: conversationId, tier: tier.name });
    const outcome = await deps.claim.runOnce({ sub: caller.sub, requestId }, async () => {
      await runAction(deps, { request, sub: caller.sub, tier, relay, log, remainingTimeMs: invocation?.remainingTimeMs });
      return outcomeToKeep(relay);
    });
    if (outcome.kind === "finished") {
      // A redelivery or a client's resend: repeat the final event (same seq, so a client that
      // has it drops it), so a client that missed it learns how its request ended.
      if (outcome.result) relay.replay(outcome.result as unknown as OutboundEvent);
      log.info("duplicate of a finished request", { replayed: outcome.result !== null });
    } else if (outcome.kind === "in_progress") log.info("duplicate of a request still being answered");
  } catch (err) {
    const failure = err instanceof RetryableFailure ? err.failure : toGatewayError(err);
    if (failure.code === "internal_error") log.error("request failed", { error_name: (err as Error)?.name });
    else log.info("request refused", { code: failure.code });
    relay.send(errorBody(failure, conversationId));
  }
  const publishFailure = await relay.closed();
  if (publishFailure) log.error("could not deliver events to the user", { error_name: (publishFailure as Error).name });
}

async function runAction(
  deps: WorkerDeps,
  ctx: { request: InboundRequest; sub: string; tier: ResolvedTier; relay: ResponseRelay; log: Logger; remainingTimeMs?: () => number },
): Promise<void> {
  const { request, sub, tier, relay } = ctx;
  try {
    switch (request.action) {
      case "chat":
        return await answerChat(deps, { ...ctx, request: request as ChatRequest });
      case "models":
        relay.send({
          type: "models",
          models: allowedModels(deps.config, tier.tier).map(({ id, name, provider, maxOutputTokens }) => ({ id, name, provider, maxOutputTokens })),
          defaultModelId: defaultModelFor(deps.config, tier.tier).id,
        });
        return;
      case "conversations":
        relay.send(await listConversations(deps.conversations, sub, request.cursor));
        return;
      case "history":
        relay.send(await conversationHistory(deps.conversations, sub, request.conversationId!, request.cursor));
        return;
      case "deleteConversation":
        relay.send(await deleteConversation(deps.conversations, sub, request.conversationId!));
        return;
      case "cancel":
        relay.send(await cancelAnswer(deps.cancels, sub, request.targetRequestId!));
        return;
      default:
        throw new GatewayError("invalid_request", `The "${request.action}" action is not available on this gateway yet.`, {
          details: { action: request.action },
        });
    }
  } catch (err) {
    // Retryable failures release the claim (the caller sends their error event); any other
    // outcome is final for this request id, so it is reported here and the claim completes.
    if (err instanceof RetryableFailure) throw err;
    const failure = toGatewayError(err);
    if (failure.code === "internal_error") ctx.log.error("action failed", { error_name: (err as Error)?.name });
    relay.send(errorBody(failure, request.conversationId));
  }
}

/** Final events that carry conversation text (titles, turns): never kept. */
const TEXT_BEARING = new Set(["delta", "start", "history", "conversations"]);

/**
 * The event a duplicate is answered with: the request's final one. Deltas (answer text) and
 * history listings are never kept: the idempotency table holds no prompt or answer text.
 */
function outcomeToKeep(relay: ResponseRelay): Record<string, unknown> | null {
  const last = relay.lastEvent;
  return last && !TEXT_BEARING.has(last.type) ? { ...last } : null;
}

/** The request id to answer under: the client's, when it sent a usable one. */
function requestIdOf(event: { id: string; payload: unknown }): string {
  const payload = typeof event.payload === "string" ? safeJson(event.payload) : event.payload;
  const id = (payload as { requestId?: unknown } | null)?.requestId;
  return typeof id === "string" && id.length > 0 && id.length <= 100 ? id : event.id;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
