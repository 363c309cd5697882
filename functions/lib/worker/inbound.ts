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
import { answerAddressOf } from "../protocol/payload.js";
import type { ChatRequest, InboundRequest } from "../protocol/inbound.js";
import type { OutboundEvent } from "../protocol/outbound.js";
import { ResponseRelay } from "../relay/relay.js";
import { allowedModels, defaultModelFor, resolveTier, type ResolvedTier } from "../routing/tier.js";
import { cancelAnswer } from "../cancel/action.js";
import { conversationHistory, deleteConversation, listConversations } from "../conversations/actions.js";
import { answerChat, RetryableFailure } from "./chat.js";
import type { WorkerDeps } from "./deps.js";
import type { ClaimOutcome } from "./request-claim.js";
import { startChatReads, type ChatReads } from "./turn-reads.js";

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
    // Inbound publishes need a user-pool token, so AppSync never sends this; without a Cognito
    // sub there is no channel to answer on (and `*` would be everyone's).
    deps.logger.error("inbound publish without a Cognito user; refused", { channel: event.info.channel.path.slice(0, 300) });
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
  const { requestId, conversationId: clientConversationId } = answerAddressOf(event);
  const log = deps.logger.createChild();
  log.appendKeys({ correlation_id: requestId, request_id: requestId, user_id: caller.sub, appsync_event_id: event.id });
  const relay = new ResponseRelay(deps.publisher, outboundChannel(caller.sub), requestId, {
    flushIntervalMs: deps.config.relay.flushIntervalMs,
  });
  // Errors echo the client's conversation id even when the request is refused, so it can match them.
  let conversationId = clientConversationId;
  try {
    if (!ownChannel) throw new GatewayError("unauthorized", "You can only publish to your own inbound channel.");
    const request = parseInboundPayload(event.payload, deps.config.maxInputChars);
    conversationId = request.conversationId;
    const tier = resolveTier(deps.config, caller.groups);
    log.appendKeys({ action: request.action, conversation_id: conversationId, tier: tier.name });
    let retryable: GatewayError | undefined;
    const outcome = await deps.claim.runOnce({ sub: caller.sub, requestId }, async ({ firstSeq }) => {
      // A chat's reads start beside the claim's sequence read: one round trip, not five (turn-reads.ts).
      const reads = request.action === "chat" ? startChatReads(deps, { userId: caller.sub, request: request as ChatRequest, tier }) : undefined;
      relay.continueFrom(
        await firstSeq.catch(async (err: unknown) => {
          await reads?.abandon();
          throw err;
        }),
      );
      deps.analytics?.beginTurn({ userId: caller.sub, request, tier: tier.name });
      retryable = await runAction(deps, { userId: caller.sub, request, tier, relay, log, remainingTimeMs: invocation?.remainingTimeMs, reads });
      // The retryable error is sent once the claim is released (below): reserve its seq.
      return retryable ? { kind: "retryable", nextSeq: relay.nextSeq + 1 } : { kind: "final", result: outcomeToKeep(relay) };
    });
    if (outcome.kind === "ran") {
      reportStoreFailure(log, outcome);
      if (retryable) relay.send(errorBody(retryAfterRelease(retryable, outcome), conversationId));
    } else if (outcome.kind === "finished") {
      // A redelivery or a client's resend: repeat the final event (same seq, so a client that
      // has it drops it), so a client that missed it learns how its request ended.
      if (outcome.result) relay.replay(outcome.result as unknown as OutboundEvent);
      log.info("duplicate of a finished request", { replayed: outcome.result !== null });
    } else log.info("duplicate of a request still being answered");
  } catch (err) {
    // Refusals, and failures before the work began (the claim itself): the request's one outcome.
    const failure = toGatewayError(err);
    if (failure.code === "internal_error") log.error("request failed", { error_name: (err as Error)?.name });
    else log.info("request refused", { code: failure.code });
    if (!relay.ended) relay.send(errorBody(failure, conversationId));
  }
  const publishFailure = await relay.closed();
  if (publishFailure) log.error("could not deliver events to the user", { error_name: (publishFailure as Error).name });
}

/**
 * Runs one action; its outcome reaches the user through the relay. Returns the failure when it
 * is retryable (nothing generated): the caller releases the claim, then reports it.
 */
async function runAction(
  deps: WorkerDeps,
  ctx: { userId: string; request: InboundRequest; tier: ResolvedTier; relay: ResponseRelay; log: Logger; remainingTimeMs?: () => number; reads?: ChatReads },
): Promise<GatewayError | undefined> {
  const { request, tier, relay } = ctx;
  try {
    switch (request.action) {
      case "chat":
        await answerChat(deps, { ...ctx, request: request as ChatRequest });
        return;
      case "models":
        relay.send({
          type: "models",
          models: allowedModels(deps.config, tier.tier).map(({ id, name, provider, maxOutputTokens }) => ({ id, name, provider, maxOutputTokens })),
          defaultModelId: defaultModelFor(deps.config, tier.tier).id,
        });
        return;
      case "usage":
        relay.send({ type: "quota", quota: await deps.usage.quota(ctx.userId, tier) });
        return;
      case "conversations":
        relay.send(await listConversations(deps.conversations, ctx.userId, request.cursor));
        return;
      case "history":
        relay.send(await conversationHistory(deps.conversations, ctx.userId, request.conversationId!, request.cursor));
        return;
      case "deleteConversation":
        relay.send(await deleteConversation(deps.conversations, ctx.userId, request.conversationId!));
        return;
      case "cancel":
        relay.send(await cancelAnswer(deps.cancels, ctx.userId, request.targetRequestId!));
        return;
      default:
        throw new GatewayError("invalid_request", `The "${request.action}" action is not supported.`, {
          details: { action: request.action },
        });
    }
  } catch (err) {
    if (err instanceof RetryableFailure) return err.failure;
    // Any other outcome is final for this request id: reported here, and the claim completes.
    const failure = toGatewayError(err);
    if (failure.code === "internal_error") ctx.log.error("action failed", { error_name: (err as Error)?.name });
    relay.send(errorBody(failure, request.conversationId));
  }
}

/** Final events that carry conversation text (titles, turns): never kept. */
const TEXT_BEARING = new Set(["delta", "start", "history", "conversations"]);

/**
 * A retryable failure as the user hears it. When the claim could not be released, the same
 * request id is ignored until the claim lapses: `retryAfterSeconds` waits that long.
 */
function retryAfterRelease(failure: GatewayError, outcome: ClaimOutcome & { kind: "ran" }): GatewayError {
  if (outcome.heldUntil === undefined) return failure;
  const heldForSeconds = Math.ceil((outcome.heldUntil - Date.now()) / 1000);
  const retryAfterSeconds = Math.max(failure.extra.retryAfterSeconds ?? 0, heldForSeconds);
  return new GatewayError(failure.code, failure.message, { ...failure.extra, retryAfterSeconds });
}

function reportStoreFailure(log: Logger, outcome: ClaimOutcome & { kind: "ran" }): void {
  if (!outcome.storeFailure) return;
  const { stage, error } = outcome.storeFailure;
  // The user already has (or is about to get) the request's one outcome; only duplicates and
  // retries of this id are affected.
  log.error("could not write the request's end to the idempotency store", {
    stage,
    error_name: (error as Error)?.name,
    held_until: outcome.heldUntil === undefined ? undefined : new Date(outcome.heldUntil).toISOString(),
  });
}

/**
 * The event a duplicate is answered with: the request's final one. Deltas (answer text) and
 * history listings are never kept: the idempotency table holds no prompt or answer text.
 */
function outcomeToKeep(relay: ResponseRelay): Record<string, unknown> | null {
  const last = relay.lastEvent;
  return last && !TEXT_BEARING.has(last.type) ? { ...last } : null;
}
