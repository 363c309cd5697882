/**
 * Channel namespaces as the Events server runs them, and the handler events it passes to
 * their DIRECT Lambda handlers, shaped like AppSync's. `gatewayNamespaces` builds the
 * gateway's namespaces from the one channel contract (functions/lib/protocol/channels.ts),
 * so local auth modes and handler wiring cannot drift from what the EventApi component deploys.
 */
import { type AuthMode, NAMESPACES } from "../../functions/lib/protocol/channels.js";
import type { HandlerIdentity } from "./identity.js";

export type InvokeType = "EVENT" | "REQUEST_RESPONSE";

export interface HandlerEvent {
  info: {
    channel: { path: string; segments: string[] };
    channelNamespace: { name: string };
    operation: "SUBSCRIBE" | "PUBLISH";
  };
  identity: HandlerIdentity;
  request: { headers: Record<string, string>; domainName: string | null };
  /** The published events with their AppSync identifiers; null for SUBSCRIBE. */
  events: { id: string; payload: unknown }[] | null;
  stash: Record<string, unknown>;
  outErrors: unknown[];
  error: null;
  prev: null;
  result: null;
}

/** What a REQUEST_RESPONSE onSubscribe handler returns: `{ error }` refuses the subscription. */
export type SubscribeHandlerResult = { error?: string } | null | undefined | void;
/** What a REQUEST_RESPONSE onPublish handler returns: the events to broadcast, or errors. */
export type PublishHandlerResult =
  | { events?: { id: string; payload?: unknown; error?: string }[]; error?: string }
  | null
  | undefined
  | void;

export type SubscribeHandler = (event: HandlerEvent) => Promise<SubscribeHandlerResult> | SubscribeHandlerResult;
export type PublishHandler = (event: HandlerEvent) => Promise<PublishHandlerResult> | PublishHandlerResult;

export interface EventsNamespace {
  name: string;
  publishAuthModes: readonly AuthMode[];
  subscribeAuthModes: readonly AuthMode[];
  onPublish?: PublishHandler;
  onSubscribe?: SubscribeHandler;
  /**
   * How each handler is invoked, as the namespace's DIRECT Lambda integration configures it.
   * @default { onPublish: "EVENT", onSubscribe: "REQUEST_RESPONSE" }
   */
  invokeTypes?: { onPublish?: InvokeType; onSubscribe?: InvokeType };
}

export interface GatewayHandlers {
  /** The chat worker, attached wherever the contract puts an onPublish handler. */
  onPublish?: PublishHandler;
  /** The channel authorizer, attached wherever the contract puts an onSubscribe handler. */
  onSubscribe?: SubscribeHandler;
}

/** The gateway's namespaces, auth modes and invoke types taken from NAMESPACES. */
export function gatewayNamespaces(handlers: GatewayHandlers = {}): EventsNamespace[] {
  return Object.values(NAMESPACES).map((contract) => {
    const { event, invokeType } = contract.handler;
    const handler = handlers[event];
    return {
      name: contract.name,
      publishAuthModes: contract.publishAuthModes,
      subscribeAuthModes: contract.subscribeAuthModes,
      ...(handler ? { [event]: handler, invokeTypes: { [event]: invokeType } } : {}),
    };
  });
}

export function invokeTypeOf(namespace: EventsNamespace, handler: "onPublish" | "onSubscribe"): InvokeType {
  return namespace.invokeTypes?.[handler] ?? (handler === "onPublish" ? "EVENT" : "REQUEST_RESPONSE");
}

/**
 * Lambda receives its event as JSON; passing a JSON copy keeps handlers from sharing objects
 * with the server and drops what JSON cannot carry, as the real transport would.
 */
export function asLambdaPayload(event: HandlerEvent): HandlerEvent {
  return JSON.parse(JSON.stringify(event)) as HandlerEvent;
}
