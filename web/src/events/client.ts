/**
 * An AppSync Events WebSocket client written from AWS's protocol documentation (the same
 * protocol as local/events/testing/raw-client.ts, for the browser): subprotocols
 * `aws-appsync-event-ws` + `header-<base64url {host, Authorization}>`, `connection_init` ->
 * `connection_ack`, `ka` keep-alives watched against `connectionTimeoutMs`, `subscribe` and
 * `publish` with a per-message `authorization`. It reconnects with capped, jittered backoff
 * and re-subscribes, and it works against AWS and against the local server alike (Amplify's
 * `events` client would derive wss:// for the local ws:// endpoint). Tokens come from the
 * caller on every message, so a refreshed token is used as soon as it exists.
 */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "failed";

export interface EventsClientOptions {
  /** `wss://<realtime host>/event/realtime` (locally `ws://localhost:<port>/event/realtime`). */
  realtimeEndpoint: string;
  /** `https://<http host>/event`: its host goes into every authorization header. */
  httpEndpoint: string;
  /** A current Cognito token (access or ID); called for the connection and every message. */
  getToken(): Promise<string>;
  onStatus(status: ConnectionStatus, detail?: string): void;
  /** How long a publish may wait for its acknowledgement. @default 10000 */
  publishTimeoutMs?: number;
}

type Message = { type: string; id?: string; event?: string; connectionTimeoutMs?: number; errors?: { errorType?: string; message?: string }[] };

interface Subscription {
  channel: string;
  onEvent(event: unknown): void;
}

interface PendingReply {
  resolve(message: Message): void;
  reject(error: Error): void;
}

const PROTOCOL = "aws-appsync-event-ws";
const MAX_BACKOFF_MS = 30_000;

function base64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class EventsClient {
  private ws?: WebSocket;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly replies = new Map<string, PendingReply>();
  private connected?: Promise<void>;
  private markConnected?: () => void;
  private keepAliveTimer?: ReturnType<typeof setTimeout>;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private attempts = 0;
  private closed = false;
  private readonly host: string;

  constructor(private readonly options: EventsClientOptions) {
    this.host = new URL(options.httpEndpoint).host;
  }

  /** Opens the connection (and keeps reopening it) until close(). */
  start(): void {
    this.resetConnected();
    void this.open();
  }

  /** Subscribes now and after every reconnect. */
  subscribe(channel: string, onEvent: (event: unknown) => void): void {
    const id = crypto.randomUUID();
    this.subscriptions.set(id, { channel, onEvent });
    if (this.ws?.readyState === WebSocket.OPEN && this.markConnected === undefined) void this.sendSubscribe(id, channel);
  }

  /** Publishes events (at most 5) once connected; resolves on `publish_success`. */
  async publish(channel: string, events: unknown[]): Promise<void> {
    await this.connected;
    const id = crypto.randomUUID();
    const reply = await this.request(id, { type: "publish", id, channel, events: events.map((e) => JSON.stringify(e)), authorization: await this.authorization() });
    if (reply.type !== "publish_success") throw new Error(reply.errors?.[0]?.message ?? "The gateway refused the message.");
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.reconnectTimer);
    this.ws?.close();
    for (const reply of this.replies.values()) reply.reject(new Error("closed"));
    this.replies.clear();
  }

  private resetConnected(): void {
    this.connected = new Promise((resolve) => (this.markConnected = resolve));
  }

  private async authorization(): Promise<Record<string, string>> {
    return { host: this.host, Authorization: await this.options.getToken() };
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    this.options.onStatus(this.attempts === 0 ? "connecting" : "reconnecting");
    let header: string;
    try {
      header = `header-${base64Url(JSON.stringify(await this.authorization()))}`;
    } catch {
      return this.options.onStatus("failed", "Your session has ended. Please sign in again.");
    }
    const ws = new WebSocket(this.options.realtimeEndpoint, [PROTOCOL, header]);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init" }));
    ws.onmessage = (message) => this.dispatch(JSON.parse(String(message.data)) as Message);
    ws.onclose = () => {
      if (this.ws === ws) this.lost();
    };
  }

  private dispatch(message: Message): void {
    switch (message.type) {
      case "connection_ack":
        this.attempts = 0;
        this.watchKeepAlive(message.connectionTimeoutMs ?? 300_000);
        return void this.onAcknowledged();
      case "ka":
        return this.watchKeepAlive();
      case "connection_error":
        // Bad credentials: retrying with the same token cannot help; a refreshed one might.
        this.options.onStatus("reconnecting", message.errors?.[0]?.message);
        return;
      case "data": {
        const subscription = message.id ? this.subscriptions.get(message.id) : undefined;
        if (subscription && typeof message.event === "string") subscription.onEvent(JSON.parse(message.event));
        return;
      }
      default: {
        const reply = message.id ? this.replies.get(message.id) : undefined;
        if (!reply) return;
        this.replies.delete(message.id!);
        reply.resolve(message);
      }
    }
  }

  private async onAcknowledged(): Promise<void> {
    const results = await Promise.all([...this.subscriptions].map(([id, s]) => this.sendSubscribe(id, s.channel)));
    if (results.every(Boolean)) {
      this.options.onStatus("connected");
      this.markConnected?.();
      this.markConnected = undefined;
    } else {
      this.options.onStatus("failed", "The gateway refused to deliver your answers to this account.");
    }
  }

  private async sendSubscribe(id: string, channel: string): Promise<boolean> {
    const reply = await this.request(id, { type: "subscribe", id, channel, authorization: await this.authorization() }).catch(() => undefined);
    return reply?.type === "subscribe_success";
  }

  private request(id: string, message: Record<string, unknown>): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error("The gateway did not answer in time."));
      }, this.options.publishTimeoutMs ?? 10_000);
      this.replies.set(id, {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
      else this.replies.get(id)!.reject(new Error("Not connected."));
    });
  }

  private keepAliveMs = 300_000;
  /** No `ka` within connectionTimeoutMs means the connection is dead even if the socket is not closed. */
  private watchKeepAlive(timeoutMs?: number): void {
    if (timeoutMs) this.keepAliveMs = timeoutMs;
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = setTimeout(() => this.ws?.close(), this.keepAliveMs);
  }

  private lost(): void {
    clearTimeout(this.keepAliveTimer);
    for (const reply of this.replies.values()) reply.reject(new Error("The connection was lost."));
    this.replies.clear();
    if (this.closed) return;
    if (!this.markConnected) this.resetConnected();
    this.attempts += 1;
    this.options.onStatus("reconnecting");
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.attempts - 1, 6));
    this.reconnectTimer = setTimeout(() => void this.open(), backoff / 2 + Math.random() * (backoff / 2));
  }
}
