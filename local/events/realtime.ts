/**
 * One WebSocket connection on `/event/realtime`, speaking AppSync Events' protocol:
 * connection_init -> connection_ack (+ periodic ka), subscribe/unsubscribe, publish, and
 * `data` messages carrying one event each as a JSON string. Every subscribe and publish
 * carries its own `authorization` headers, checked against the namespace's auth modes.
 * Messages of one connection are handled in order, as a client would expect of one socket.
 */
import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import type { EventsBroker, RequestContext, Subscription } from "./broker.js";
import { badRequest, type EventsErrorItem, toEventsApiError, UNAUTHORIZED_MESSAGE } from "./errors.js";
import { plainHeaders } from "./headers.js";
import { sourceIpOf } from "./http-publish.js";
import type { Caller } from "./identity.js";
import type { EventsLimits } from "./limits.js";

export const REALTIME_PATH = "/event/realtime";
export const EVENT_WS_PROTOCOL = "aws-appsync-event-ws";
const AUTH_PROTOCOL_PREFIX = "header-";

export interface RealtimeOptions {
  broker: EventsBroker;
  /** Sent in connection_ack: how long a client waits for a `ka` before giving up. */
  connectionTimeoutMs: number;
  keepAliveIntervalMs: number;
  limits: Pick<EventsLimits, "maxSubscriptionsPerConnection" | "maxQueuedMessagesPerConnection" | "maxBufferedBytesPerConnection">;
}

/** Close code and reason for a client that does not read what it is sent. */
export const SLOW_READER_CLOSE = { code: 1008, reason: "The client is not reading its messages." } as const;

/** The headers in the `header-<base64url JSON>` subprotocol, or null when absent or unreadable. */
export function decodeAuthProtocol(protocols: readonly string[]): Record<string, string> | null {
  const encoded = protocols.find((p) => p.startsWith(AUTH_PROTOCOL_PREFIX));
  if (!encoded) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(encoded.slice(AUTH_PROTOCOL_PREFIX.length), "base64url").toString("utf8"));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? stringValues(parsed) : null;
  } catch {
    return null;
  }
}

function stringValues(value: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === "string") out[key] = v;
  return out;
}

type ClientMessage = { type?: unknown; id?: unknown; channel?: unknown; events?: unknown; authorization?: unknown };

export class RealtimeConnection {
  private readonly subscriptions = new Map<string, Subscription>();
  /** Ids of subscribe requests still being authorized, so a repeated id is refused. */
  private readonly pending = new Set<string>();
  private keepAlive: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** Messages received and not yet handled. */
  private queued = 0;
  private readonly upgradeHeaders: Record<string, string>;
  private readonly sourceIp: string;

  constructor(
    private readonly ws: WebSocket,
    request: IncomingMessage,
    caller: Caller | null,
    private readonly options: RealtimeOptions,
  ) {
    // The protocol header carries the connection's token; handlers get the per-message headers instead.
    this.upgradeHeaders = plainHeaders(request.headers, ["sec-websocket-protocol", "sec-websocket-key"]);
    this.sourceIp = sourceIpOf(request);
    ws.on("close", () => this.dispose());
    ws.on("error", () => ws.terminate());
    if (!caller) {
      this.refuseConnection();
      return;
    }
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      if (this.queued >= options.limits.maxQueuedMessagesPerConnection) return this.refuseOverflow(data.toString());
      this.queued++;
      this.queue = this.queue
        .then(() => this.handle(data.toString()))
        .catch(() => undefined)
        .finally(() => this.queued--);
    });
  }

  /** Ends the connection and its timer (server shutdown). */
  terminate(): void {
    this.dispose();
    this.ws.terminate();
  }

  private refuseConnection(): void {
    const errors: EventsErrorItem[] = [{ errorType: "UnauthorizedException", message: UNAUTHORIZED_MESSAGE, errorCode: 401 }];
    this.ws.send(JSON.stringify({ type: "connection_error", errors }), () => this.ws.close(1008, "Unauthorized"));
  }

  /** A message past the queue bound is answered at once and not handled. */
  private refuseOverflow(text: string): void {
    const id = /"id"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 4096))?.[1];
    this.send({
      type: "error",
      ...(id ? { id } : {}),
      errors: [{ errorType: "LimitExceededError", message: "Too many messages are waiting on this connection; send more slowly." }],
    });
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    // A client that stops reading would otherwise make the server buffer without end.
    if (this.ws.bufferedAmount > this.options.limits.maxBufferedBytesPerConnection) {
      this.ws.close(SLOW_READER_CLOSE.code, SLOW_READER_CLOSE.reason);
      return;
    }
    this.ws.send(JSON.stringify(message));
  }

  private async handle(text: string): Promise<void> {
    let message: ClientMessage;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== "object") throw new Error("not an object");
      message = parsed as ClientMessage;
    } catch {
      return this.send({ type: "error", errors: [badRequest("Messages must be JSON objects.").toItem()] });
    }
    switch (message.type) {
      case "connection_init":
        return this.acknowledgeConnection();
      case "subscribe":
        return this.subscribe(message);
      case "unsubscribe":
        return this.unsubscribe(message);
      case "publish":
        return this.publish(message);
      default:
        return this.send({
          type: "error",
          ...(typeof message.id === "string" ? { id: message.id } : {}),
          errors: [{ errorType: "UnsupportedOperation", message: "This message type is not supported." }],
        });
    }
  }

  private acknowledgeConnection(): void {
    this.send({ type: "connection_ack", connectionTimeoutMs: this.options.connectionTimeoutMs });
    this.send({ type: "ka" });
    this.keepAlive ??= setInterval(() => this.send({ type: "ka" }), this.options.keepAliveIntervalMs).unref();
  }

  private context(message: ClientMessage, signedBody: string): RequestContext {
    const authorization =
      message.authorization && typeof message.authorization === "object" ? stringValues(message.authorization) : {};
    return {
      // A message's IAM signature covers a POST to /event whose body is the message's own JSON.
      auth: { headers: authorization, method: "POST", path: "/event", body: signedBody },
      sourceIp: this.sourceIp,
      requestHeaders: { ...this.upgradeHeaders, ...plainHeaders(authorization) },
    };
  }

  private async subscribe(message: ClientMessage): Promise<void> {
    const id = message.id;
    if (typeof id !== "string" || id === "") {
      return this.send({ type: "subscribe_error", errors: [badRequest("A subscribe needs an id.").toItem()] });
    }
    const refuse = (error: EventsErrorItem) => this.send({ type: "subscribe_error", id, errors: [error] });
    if (this.subscriptions.has(id) || this.pending.has(id)) {
      return refuse({ errorType: "DuplicatedOperationError", message: "A subscription with this id already exists." });
    }
    if (this.subscriptions.size + this.pending.size >= this.options.limits.maxSubscriptionsPerConnection) {
      return refuse({ errorType: "MaxSubscriptionsReachedError", message: "This connection has reached its subscription limit." });
    }
    this.pending.add(id);
    try {
      const ctx = this.context(message, JSON.stringify({ channel: message.channel }));
      const channel = await this.options.broker.authorizeSubscription(message.channel, ctx);
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const subscription: Subscription = {
        id,
        channel,
        deliver: (subscriptionId, event) => this.send({ type: "data", id: subscriptionId, event }),
      };
      this.subscriptions.set(id, subscription);
      this.options.broker.addSubscription(subscription);
      this.send({ type: "subscribe_success", id });
    } catch (error) {
      refuse(toEventsApiError(error).toItem());
    } finally {
      this.pending.delete(id);
    }
  }

  private unsubscribe(message: ClientMessage): void {
    const id = typeof message.id === "string" ? message.id : "";
    const subscription = this.subscriptions.get(id);
    if (!subscription) {
      return this.send({
        type: "unsubscribe_error",
        id,
        errors: [{ errorType: "UnknownOperationError", message: "No subscription with this id." }],
      });
    }
    this.subscriptions.delete(id);
    this.options.broker.removeSubscription(subscription);
    this.send({ type: "unsubscribe_success", id });
  }

  private async publish(message: ClientMessage): Promise<void> {
    const id = typeof message.id === "string" ? message.id : undefined;
    try {
      const ctx = this.context(message, JSON.stringify({ channel: message.channel, events: message.events }));
      const outcome = await this.options.broker.publish(message.channel, message.events, ctx, "websocket");
      this.send({ type: "publish_success", id, ...outcome });
    } catch (error) {
      this.send({ type: "publish_error", id, errors: [toEventsApiError(error).toItem()] });
    }
  }

  private dispose(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    for (const subscription of this.subscriptions.values()) this.options.broker.removeSubscription(subscription);
    this.subscriptions.clear();
  }
}
