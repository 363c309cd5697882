/**
 * An AppSync-Events-compatible server: `POST /event` and the WebSocket `/event/realtime` on
 * its main port, over HTTPS/WSS when given a certificate (Amplify always derives
 * `wss://<endpoint host>/event/realtime`), else plain HTTP/WS; plus optional plain-HTTP
 * listeners that each serve one surface (listener-policy.ts). Every listener binds `host`.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { AuthMode } from "../../functions/lib/protocol/channels.js";
import type { EventsAuthOptions } from "./auth.js";
import { type BrokerOptions, EventsBroker, type PublishedRecord } from "./broker.js";
import { EVENT_PATH, handleHttpRequest } from "./http-publish.js";
import { DEFAULT_LIMITS, type EventsLimits } from "./limits.js";
import { type EventsSurface, type ListenerPolicy, Slots, SURFACE_AUTH_MODES } from "./listener-policy.js";
import { OriginPolicy } from "./origins.js";
import type { EventsNamespace } from "./namespaces.js";
import { decodeAuthProtocol, EVENT_WS_PROTOCOL, REALTIME_PATH, RealtimeConnection } from "./realtime.js";

export interface EventsServerOptions {
  /** Every listener binds this address. @default "127.0.0.1" */
  host?: string;
  /** The main listener (the `client` surface); 0 picks a free port. @default 0 */
  port?: number;
  /** PEM key and certificate; when given, the main listener speaks HTTPS and WSS. */
  tls?: { key: string; cert: string };
  /** The region SigV4 signatures must be scoped to. */
  region: string;
  namespaces: readonly EventsNamespace[];
  auth: EventsAuthOptions;
  /** Auth modes accepted for the WebSocket connection itself. @default both */
  connectionAuthModes?: readonly AuthMode[];
  /** Host name written into the endpoint URLs (e.g. "localhost" to match a certificate). @default host */
  advertisedHost?: string;
  /**
   * Web origins (`scheme://host[:port]`) whose pages may call the API from a browser. A
   * request or WebSocket handshake carrying any other `Origin` is refused (403); one without
   * `Origin` (Node, curl) is judged by its credentials. CORS replies echo only these.
   * @default [] (no browser page may use the API)
   */
  allowedOrigins?: readonly string[];
  /**
   * Plain-HTTP listeners on `host` besides the main one, each serving one surface (see
   * listener-policy.ts): e.g. `{ name: "worker", port: 0, surface: "publisher" }` for
   * publishers that cannot trust the local CA, like the chat worker inside `npm start`.
   * A `client` listener applies the same Origin and auth checks as the main one.
   * @default none
   */
  plainListeners?: readonly PlainListenerOptions[];
  /** @default 60000, as AppSync */
  keepAliveIntervalMs?: number;
  /** @default 300000, as AppSync */
  connectionTimeoutMs?: number;
  /** Bounds on what clients can make the server hold. @default DEFAULT_LIMITS */
  limits?: Partial<EventsLimits>;
  onHandlerError?: BrokerOptions["onHandlerError"];
  /** Keep only this many recent publishes in `published`. @default all (tests read them) */
  maxRecordedPublishes?: number;
}

export interface PlainListenerOptions {
  /** The key of this listener in `EventsServer.listeners`. */
  name: string;
  /** 0 picks a free port. */
  port: number;
  surface: EventsSurface;
}

export interface ListenerEndpoints {
  port: number;
  surface: EventsSurface;
  /** `http(s)://host:port/event` */
  httpEndpoint: string;
  /** `ws(s)://host:port/event/realtime`, on `client` listeners only. */
  realtimeEndpoint?: string;
}

export interface EventsServer {
  readonly port: number;
  /** `http(s)://host:port/event` */
  readonly httpEndpoint: string;
  /** `ws(s)://host:port/event/realtime` */
  readonly realtimeEndpoint: string;
  /** The plain listeners by name (`plainListeners`). */
  readonly listeners: Readonly<Record<string, ListenerEndpoints>>;
  /** Every accepted publish, in order. */
  readonly published: readonly PublishedRecord[];
  /** The payloads accepted on one channel, in order. */
  publishedTo(channel: string): unknown[];
  /** Forgets the publishes recorded so far (a long test measuring the server's own memory). */
  forgetPublished(): void;
  /** Resolves with the first accepted publish (past or future) that satisfies `predicate`. */
  waitForPublished(predicate: (record: PublishedRecord) => boolean): Promise<PublishedRecord>;
  /** Resolves once no asynchronously invoked handler is still running. */
  idle(): Promise<void>;
  /** Open WebSocket connections. */
  connectionCount(): number;
  /** Stops listening and terminates every socket and timer. */
  close(): Promise<void>;
}

function rejectUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function offeredProtocols(request: IncomingMessage): string[] {
  return (request.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim()).filter(Boolean);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `Events server: port ${port} on ${host} is already in use.`
            : `Events server could not listen on ${host}:${port} (${error.code ?? "error"}).`,
        ),
      );
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

export async function startEventsServer(options: EventsServerOptions): Promise<EventsServer> {
  const host = options.host ?? "127.0.0.1";
  const connectionAuthModes = options.connectionAuthModes ?? ["AMAZON_COGNITO_USER_POOLS", "AWS_IAM"];
  const limits: EventsLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const origins = new OriginPolicy(options.allowedOrigins ?? []);
  const pending = new Slots(limits.maxPendingRequests);
  const broker = new EventsBroker({
    namespaces: options.namespaces,
    auth: options.auth,
    region: options.region,
    onHandlerError: options.onHandlerError,
    maxRecordedPublishes: options.maxRecordedPublishes,
  });
  const realtimeOptions = {
    broker,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 300_000,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? 60_000,
    limits,
  };
  const connections = new Set<RealtimeConnection>();
  /** Sockets between the upgrade request and the WebSocket handshake (auth runs in between). */
  const upgrading = new Set<Duplex>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(EVENT_WS_PROTOCOL) ? EVENT_WS_PROTOCOL : false),
  });

  const onClientUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== REALTIME_PATH) return rejectUpgrade(socket, "404 Not Found");
    // Before anything else: a page from a foreign origin learns nothing, not even whether its token is good.
    if (origins.judge(request.headers.origin) === "refused") return rejectUpgrade(socket, "403 Forbidden");
    const protocols = offeredProtocols(request);
    if (!protocols.includes(EVENT_WS_PROTOCOL)) return rejectUpgrade(socket, "400 Bad Request");
    if (connections.size + upgrading.size >= limits.maxConnections) {
      return wss.handleUpgrade(request, socket, head, (ws) => refuseBusyConnection(ws));
    }
    const headers = decodeAuthProtocol(protocols);
    // The connection's IAM signature covers a POST to /event with the body "{}".
    const authenticated = headers
      ? broker.authenticate({ headers, method: "POST", path: "/event", body: "{}" })
      : Promise.resolve(null);
    upgrading.add(socket);
    authenticated
      .catch(() => null)
      .then((caller) => {
        upgrading.delete(socket);
        if (socket.destroyed || closing) return void socket.destroy();
        const allowed = caller && connectionAuthModes.includes(caller.mode) ? caller : null;
        wss.handleUpgrade(request, socket, head, (ws) => {
          const connection = new RealtimeConnection(ws, request, allowed, realtimeOptions);
          connections.add(connection);
          ws.on("close", () => connections.delete(connection));
        });
      });
  };

  const servers: Server[] = [];
  const serve = (server: Server, surface: EventsSurface) => {
    const policy: ListenerPolicy = { surface, origins, limits, pending, authModes: SURFACE_AUTH_MODES[surface] };
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      handleHttpRequest(req, res, broker, policy).catch(() => res.destroy());
    });
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      if (closing) return void socket.destroy();
      // The publisher surface takes the worker's POSTs and nothing else.
      if (surface !== "client") return rejectUpgrade(socket, "404 Not Found");
      onClientUpgrade(request, socket, head);
    });
    // Slow senders cannot hold a request (and its slot) open for long.
    server.requestTimeout = limits.requestTimeoutMs;
    server.headersTimeout = Math.min(limits.requestTimeoutMs, 10_000);
    servers.push(server);
    return server;
  };

  const main = serve(options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createHttpServer(), "client");
  const urlHost = options.advertisedHost ?? host;
  const secure = Boolean(options.tls);
  const endpointsOf = (port: number, surface: EventsSurface, tls: boolean, advertised: string): ListenerEndpoints => {
    const authority = `${advertised.includes(":") ? `[${advertised}]` : advertised}:${port}`;
    return {
      port,
      surface,
      httpEndpoint: `${tls ? "https" : "http"}://${authority}${EVENT_PATH}`,
      ...(surface === "client" ? { realtimeEndpoint: `${tls ? "wss" : "ws"}://${authority}${REALTIME_PATH}` } : {}),
    };
  };

  const listeners: Record<string, ListenerEndpoints> = {};
  let mainEndpoints: ListenerEndpoints;
  try {
    mainEndpoints = endpointsOf(await listen(main, options.port ?? 0, host), "client", secure, urlHost);
    for (const plain of options.plainListeners ?? []) {
      if (listeners[plain.name]) throw new Error(`Events server: two plain listeners are named "${plain.name}".`);
      const port = await listen(serve(createHttpServer(), plain.surface), plain.port, host);
      // A client surface is reached by browsers under the advertised name; the publisher by address.
      listeners[plain.name] = endpointsOf(port, plain.surface, false, plain.surface === "client" ? urlHost : host);
    }
  } catch (error) {
    await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    throw error;
  }

  return {
    port: mainEndpoints.port,
    httpEndpoint: mainEndpoints.httpEndpoint,
    realtimeEndpoint: mainEndpoints.realtimeEndpoint!,
    listeners,
    published: broker.published,
    publishedTo: (channel) => {
      const path = channel.startsWith("/") ? channel : `/${channel}`;
      return broker.published.filter((r) => r.channel === path).flatMap((r) => r.events.map((e) => e.payload));
    },
    forgetPublished: () => void broker.published.splice(0),
    waitForPublished: (predicate) =>
      new Promise((resolve) => {
        const past = broker.published.find(predicate);
        if (past) return resolve(past);
        const stop = broker.onPublished((record) => {
          if (!predicate(record)) return;
          stop();
          resolve(record);
        });
      }),
    idle: () => broker.idle(),
    connectionCount: () => connections.size,
    close: async () => {
      closing = true;
      for (const socket of upgrading) socket.destroy();
      upgrading.clear();
      for (const connection of connections) connection.terminate();
      connections.clear();
      wss.close();
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of servers) s.closeAllConnections();
      await Promise.all(closed);
    },
  };
}

/** At the connection bound: the protocol's error (so a client can tell why), then a close asking to retry later. */
function refuseBusyConnection(ws: WebSocket): void {
  const errors = [{ errorType: "TooManyRequestsException", message: "The server has too many open connections; try again later." }];
  ws.on("error", () => ws.terminate());
  ws.send(JSON.stringify({ type: "connection_error", errors }), () => ws.close(1013, "Too many connections"));
}
