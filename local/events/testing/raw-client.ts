/**
 * A raw AppSync Events WebSocket client written from AWS's protocol documentation, with no
 * AWS library: subprotocols `aws-appsync-event-ws` + `header-<base64url JSON>`, then
 * connection_init, subscribe, publish and unsubscribe messages with per-message
 * `authorization`. Also signs IAM headers the way the docs describe (a POST to `/event`
 * whose body is the message's JSON). Tests wait on messages, never on clocks.
 */
import { randomUUID } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { WebSocket } from "ws";

export type EventsMessage = { type: string; id?: string; [key: string]: unknown };
export type AuthHeaders = Record<string, string>;

export function cognitoHeaders(httpEndpoint: string, token: string): AuthHeaders {
  return { host: new URL(httpEndpoint).host, Authorization: token };
}

/** IAM headers for a WebSocket connection (`body` "{}") or message (its channel/events JSON). */
export async function iamHeaders(
  httpEndpoint: string,
  body: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region: string,
): Promise<AuthHeaders> {
  const url = new URL(httpEndpoint);
  const signer = new SignatureV4({ service: "appsync", region, credentials, sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: {
        accept: "application/json, text/javascript",
        "content-encoding": "amz-1.0",
        "content-type": "application/json; charset=UTF-8",
        host: url.host,
      },
      body,
    }),
  );
  return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
}

export function authProtocol(headers: AuthHeaders): string {
  return `header-${Buffer.from(JSON.stringify(headers)).toString("base64url")}`;
}

export class RawEventsClient {
  private readonly received: EventsMessage[] = [];
  private readonly waiters: { match: (m: EventsMessage) => boolean; resolve: (m: EventsMessage) => void }[] = [];
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.dispatch(JSON.parse(data.toString()) as EventsMessage));
    this.closed = new Promise((resolve) => ws.on("close", (code) => resolve({ code })));
  }

  /** Opens the socket; `headers` null offers no auth subprotocol at all. */
  static connect(
    realtimeEndpoint: string,
    headers: AuthHeaders | null,
    options: { ca?: string; origin?: string } = {},
  ): Promise<RawEventsClient> {
    const protocols = ["aws-appsync-event-ws", ...(headers ? [authProtocol(headers)] : [])];
    const ws = new WebSocket(realtimeEndpoint, protocols, {
      ...(options.ca ? { ca: options.ca } : {}),
      // A browser sends its page's origin on every handshake; Node clients send none.
      ...(options.origin ? { origin: options.origin } : {}),
    });
    const client = new RawEventsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message (already received or still to come) that `match` accepts; it is consumed. */
  next(match: (m: EventsMessage) => boolean = () => true): Promise<EventsMessage> {
    const index = this.received.findIndex(match);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  nextOfType(type: string, id?: string): Promise<EventsMessage> {
    return this.next((m) => m.type === type && (id === undefined || m.id === id));
  }

  /** The reply to request `id`: the first message with that id other than `data`. */
  reply(id: string): Promise<EventsMessage> {
    return this.next((m) => m.id === id && m.type !== "data");
  }

  async init(): Promise<EventsMessage> {
    this.send({ type: "connection_init" });
    return this.next((m) => m.type === "connection_ack" || m.type === "connection_error");
  }

  async subscribe(channel: string, authorization: AuthHeaders, id: string = randomUUID()) {
    this.send({ type: "subscribe", id, channel, authorization });
    return { id, reply: await this.reply(id) };
  }

  async publish(channel: string, events: unknown[], authorization: AuthHeaders, id: string = randomUUID()) {
    this.send({ type: "publish", id, channel, events: events.map((e) => JSON.stringify(e)), authorization });
    return this.reply(id);
  }

  async unsubscribe(id: string): Promise<EventsMessage> {
    this.send({ type: "unsubscribe", id });
    return this.reply(id);
  }

  /** The next `data` message of subscription `id`, its event parsed from its JSON string. */
  async nextEvent(id: string): Promise<unknown> {
    const message = await this.nextOfType("data", id);
    return JSON.parse(message.event as string);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  private dispatch(message: EventsMessage): void {
    const index = this.waiters.findIndex((w) => w.match(message));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
    else this.received.push(message);
  }
}
