/**
 * The Events API's core, shared by `POST /event` and the WebSocket: authorizes publishes and
 * subscriptions per namespace, runs the namespace handlers the way a DIRECT Lambda
 * integration does, broadcasts to matching subscriptions, and records every accepted publish.
 *
 * onPublish in EVENT mode (the gateway's chat worker): AWS documents that an event-mode
 * handler is invoked asynchronously, is not waited for, and "does not impact the rest of the
 * onPublish handling". So the publish is acknowledged at once, the events are broadcast
 * unchanged (what AppSync does when no handler shapes them), and the handler runs afterwards.
 * In REQUEST_RESPONSE mode the handler is awaited and decides what is broadcast.
 */
import { randomUUID } from "node:crypto";
import type { AuthMode } from "../../functions/lib/protocol/channels.js";
import { type AuthenticationInput, authenticate, type EventsAuthOptions, requireAuthMode } from "./auth.js";
import { type ChannelPath, channelMatches, parseChannel } from "./channels.js";
import { badRequest, internalFailure, unauthorized, UNAUTHORIZED_MESSAGE } from "./errors.js";
import { type Caller, handlerIdentity } from "./identity.js";
import {
  asLambdaPayload,
  type EventsNamespace,
  type HandlerEvent,
  invokeTypeOf,
  type PublishHandlerResult,
} from "./namespaces.js";
import { parsePublishedEvents } from "./publish-validation.js";

export interface RequestContext {
  auth: AuthenticationInput;
  sourceIp: string;
  /** Headers handed to handlers as `request.headers` (lower-case names). */
  requestHeaders: Record<string, string>;
  /** The auth modes the listener the request came in on accepts, whatever the namespace allows. @default any */
  listenerAuthModes?: readonly AuthMode[];
}

export interface PublishedRecord {
  channel: string;
  events: { id: string; payload: unknown }[];
  via: "http" | "websocket";
  authMode: Caller["mode"];
}

export interface PublishOutcome {
  successful: { identifier: string; index: number }[];
  failed: { identifier: string; index: number; code: string; message: string }[];
}

export interface Subscription {
  id: string;
  channel: ChannelPath;
  /** Sends one `data` message carrying one event as a JSON string. */
  deliver(subscriptionId: string, event: string): void;
}

export interface HandlerFailure {
  namespace: string;
  operation: "PUBLISH" | "SUBSCRIBE";
  channel: string;
  error: unknown;
}

export interface BrokerOptions {
  namespaces: readonly EventsNamespace[];
  auth: EventsAuthOptions;
  region: string;
  /** Told about handlers that threw; the caller only ever sees a fixed message. */
  onHandlerError?: (failure: HandlerFailure) => void;
  /** Keep only this many recent publishes (a long `npm start` session). @default all */
  maxRecordedPublishes?: number;
}

export class EventsBroker {
  readonly published: PublishedRecord[] = [];
  private readonly namespaces: Map<string, EventsNamespace>;
  private readonly namespaceNames: ReadonlySet<string>;
  private readonly subscriptions = new Set<Subscription>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly publishListeners = new Set<(record: PublishedRecord) => void>();

  constructor(private readonly options: BrokerOptions) {
    this.namespaces = new Map(options.namespaces.map((ns) => [ns.name, ns]));
    this.namespaceNames = new Set(this.namespaces.keys());
  }

  get authOptions(): EventsAuthOptions {
    return this.options.auth;
  }

  get region(): string {
    return this.options.region;
  }

  /** The caller, if it authenticated with a mode the request's listener accepts; else UnauthorizedException. */
  private async authenticateFor(ctx: RequestContext): Promise<Caller> {
    const caller = await this.authenticate(ctx.auth);
    if (!caller || (ctx.listenerAuthModes && !ctx.listenerAuthModes.includes(caller.mode))) throw unauthorized();
    return caller;
  }

  /** Authenticates without a namespace in mind (the WebSocket connection itself). */
  authenticate(auth: AuthenticationInput): Promise<Caller | null> {
    return authenticate(auth, this.options.auth, this.options.region);
  }

  async publish(channelInput: unknown, eventsInput: unknown, ctx: RequestContext, via: PublishedRecord["via"]) {
    const caller = await this.authenticateFor(ctx);
    const channel = parseChannel(channelInput, { allowWildcard: false, namespaces: this.namespaceNames });
    const namespace = this.namespaces.get(channel.namespace)!;
    requireAuthMode(caller, namespace.publishAuthModes);
    const payloads = parsePublishedEvents(eventsInput);
    const events: { id: string; payload: unknown }[] = payloads.map((payload) => ({ id: randomUUID(), payload }));

    const outcome: PublishOutcome = { successful: [], failed: [] };
    let broadcast = events;
    if (namespace.onPublish && invokeTypeOf(namespace, "onPublish") === "REQUEST_RESPONSE") {
      const result = await this.invoke(namespace, "PUBLISH", channel, () =>
        namespace.onPublish!(asLambdaPayload(this.handlerEvent("PUBLISH", channel, caller, ctx, events))),
      );
      const applied = applyPublishResult(result, events);
      broadcast = applied.broadcast;
      outcome.failed = applied.failed;
    } else if (namespace.onPublish) {
      const handlerEvent = asLambdaPayload(this.handlerEvent("PUBLISH", channel, caller, ctx, events));
      this.invokeAsync(namespace, "PUBLISH", channel, () => namespace.onPublish!(handlerEvent));
    }
    const failedIds = new Set(outcome.failed.map((f) => f.identifier));
    outcome.successful = events
      .map((event, index) => ({ identifier: event.id, index }))
      .filter((entry) => !failedIds.has(entry.identifier));

    this.record({ channel: channel.path, events, via, authMode: caller.mode });
    this.broadcast(channel, broadcast);
    return outcome;
  }

  /** Authorizes a subscription and runs onSubscribe; the caller registers it on success. */
  async authorizeSubscription(channelInput: unknown, ctx: RequestContext): Promise<ChannelPath> {
    const caller = await this.authenticateFor(ctx);
    const channel = parseChannel(channelInput, { allowWildcard: true, namespaces: this.namespaceNames });
    const namespace = this.namespaces.get(channel.namespace)!;
    requireAuthMode(caller, namespace.subscribeAuthModes);
    if (!namespace.onSubscribe) return channel;
    const handlerEvent = asLambdaPayload(this.handlerEvent("SUBSCRIBE", channel, caller, ctx, null));
    if (invokeTypeOf(namespace, "onSubscribe") === "EVENT") {
      this.invokeAsync(namespace, "SUBSCRIBE", channel, () => namespace.onSubscribe!(handlerEvent));
      return channel;
    }
    const result = await this.invoke(namespace, "SUBSCRIBE", channel, () => namespace.onSubscribe!(handlerEvent));
    if (result && typeof result === "object" && "error" in result && result.error) {
      throw unauthorized(typeof result.error === "string" ? result.error : UNAUTHORIZED_MESSAGE, 403);
    }
    return channel;
  }

  addSubscription(subscription: Subscription): void {
    this.subscriptions.add(subscription);
  }

  removeSubscription(subscription: Subscription): void {
    this.subscriptions.delete(subscription);
  }

  /** Calls `listener` for every publish accepted from now on; returns a function to stop. */
  onPublished(listener: (record: PublishedRecord) => void): () => void {
    this.publishListeners.add(listener);
    return () => this.publishListeners.delete(listener);
  }

  /** Resolves once no asynchronously invoked handler is still running. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private record(record: PublishedRecord): void {
    this.published.push(record);
    const excess = this.published.length - (this.options.maxRecordedPublishes ?? Infinity);
    if (excess > 0) this.published.splice(0, excess);
    for (const listener of this.publishListeners) listener(record);
  }

  private broadcast(channel: ChannelPath, events: { payload: unknown }[]): void {
    if (events.length === 0) return;
    for (const subscription of this.subscriptions) {
      if (!channelMatches(subscription.channel, channel)) continue;
      for (const event of events) subscription.deliver(subscription.id, JSON.stringify(event.payload));
    }
  }

  private handlerEvent(
    operation: "PUBLISH" | "SUBSCRIBE",
    channel: ChannelPath,
    caller: Caller,
    ctx: RequestContext,
    events: { id: string; payload: unknown }[] | null,
  ): HandlerEvent {
    return {
      info: {
        channel: { path: channel.path, segments: channel.segments },
        channelNamespace: { name: channel.namespace },
        operation,
      },
      identity: handlerIdentity(caller, ctx.sourceIp),
      // AppSync reports a domain name only for custom domains.
      request: { headers: ctx.requestHeaders, domainName: null },
      events,
      stash: {},
      outErrors: [],
      error: null,
      prev: null,
      result: null,
    };
  }

  private async invoke<T>(
    namespace: EventsNamespace,
    operation: HandlerFailure["operation"],
    channel: ChannelPath,
    run: () => Promise<T> | T,
  ): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.reportHandlerError({ namespace: namespace.name, operation, channel: channel.path, error });
      throw internalFailure("The channel namespace handler failed.");
    }
  }

  private invokeAsync(
    namespace: EventsNamespace,
    operation: HandlerFailure["operation"],
    channel: ChannelPath,
    run: () => unknown,
  ): void {
    // setImmediate: the reply to the caller goes out before the handler starts, as with Lambda's async invoke.
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(run)
      .then(
        () => undefined,
        (error: unknown) =>
          this.reportHandlerError({ namespace: namespace.name, operation, channel: channel.path, error }),
      )
      .finally(() => this.inflight.delete(task));
    this.inflight.add(task);
  }

  private reportHandlerError(failure: HandlerFailure): void {
    if (this.options.onHandlerError) return this.options.onHandlerError(failure);
    const reason = failure.error instanceof Error ? failure.error.message : "unknown error";
    console.error(`[events] ${failure.operation} handler of ${failure.namespace} failed on ${failure.channel}: ${reason}`);
  }
}

/** Applies a REQUEST_RESPONSE onPublish result: per-event errors fail those events only. */
function applyPublishResult(
  result: PublishHandlerResult,
  events: { id: string; payload: unknown }[],
): { broadcast: { id: string; payload: unknown }[]; failed: PublishOutcome["failed"] } {
  if (result && typeof result.error === "string" && result.error) throw badRequest(result.error);
  const failed: PublishOutcome["failed"] = [];
  const broadcast: { id: string; payload: unknown }[] = [];
  for (const returned of result?.events ?? []) {
    const index = events.findIndex((event) => event.id === returned.id);
    if (index < 0) continue;
    if (typeof returned.error === "string") {
      failed.push({ identifier: returned.id, index, code: "HandlerError", message: returned.error });
    } else {
      broadcast.push({ id: returned.id, payload: returned.payload });
    }
  }
  return { broadcast, failed };
}
