/**
 * An AppSync-Events-compatible server on one port: `POST /event` and the WebSocket
 * `/event/realtime`, over HTTPS/WSS when given a certificate (Amplify always derives
 * `wss://<endpoint host>/event/realtime`), else plain HTTP/WS.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { AuthMode } from "../../functions/lib/protocol/channels.js";
import type { EventsAuthOptions } from "./auth.js";
import { type BrokerOptions, EventsBroker, type PublishedRecord } from "./broker.js";
import { handleHttpRequest } from "./http-publish.js";
import type { EventsNamespace } from "./namespaces.js";
import { decodeAuthProtocol, EVENT_WS_PROTOCOL, REALTIME_PATH, RealtimeConnection } from "./realtime.js";

export interface EventsServerOptions {
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** PEM key and certificate; when given, the server speaks HTTPS and WSS. */
  tls?: { key: string; cert: string };
  /** The region SigV4 signatures must be scoped to. */
  region: string;
  namespaces: readonly EventsNamespace[];
  auth: EventsAuthOptions;
  /** Auth modes accepted for the WebSocket connection itself. @default both */
  connectionAuthModes?: readonly AuthMode[];
  /** Host name written into the endpoint URLs (e.g. "localhost" to match a certificate). @default host */
  advertisedHost?: string;
  /** @default 60000, as AppSync */
  keepAliveIntervalMs?: number;
  /** @default 300000, as AppSync */
  connectionTimeoutMs?: number;
  /** @default 200, as AppSync */
  maxSubscriptionsPerConnection?: number;
  onHandlerError?: BrokerOptions["onHandlerError"];
  /** Keep only this many recent publishes in `published`. @default all (tests read them) */
  maxRecordedPublishes?: number;
  /**
   * With `tls`, also serve plain HTTP on this port of `host` (0 picks a free one): for
   * publishers on this machine that cannot trust the local CA, like the chat worker inside
   * `npm start` (Node's fetch reads NODE_EXTRA_CA_CERTS only when the process starts).
   */
  plainHttpPort?: number;
}

export interface EventsServer {
  readonly port: number;
  /** `http(s)://host:port/event` */
  readonly httpEndpoint: string;
  /** `ws(s)://host:port/event/realtime` */
  readonly realtimeEndpoint: string;
  /** `http://host:port/event` of the plain-HTTP listener, when `plainHttpPort` was given with `tls`. */
  readonly plainHttpEndpoint?: string;
  /** Every accepted publish, in order. */
  readonly published: readonly PublishedRecord[];
  /** The payloads accepted on one channel, in order. */
  publishedTo(channel: string): unknown[];
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
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection ?? 200,
  };
  const connections = new Set<RealtimeConnection>();
  /** Sockets between the upgrade request and the WebSocket handshake (auth runs in between). */
  const upgrading = new Set<Duplex>();
  let closing = false;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handleHttpRequest(req, res, broker).catch(() => res.destroy());
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest)
    : createHttpServer(onRequest);

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4 * 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has(EVENT_WS_PROTOCOL) ? EVENT_WS_PROTOCOL : false),
  });

  const plainServer = options.tls && options.plainHttpPort !== undefined ? createHttpServer(onRequest) : undefined;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (closing) return void socket.destroy();
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== REALTIME_PATH) return rejectUpgrade(socket, "404 Not Found");
    const protocols = offeredProtocols(request);
    if (!protocols.includes(EVENT_WS_PROTOCOL)) return rejectUpgrade(socket, "400 Bad Request");
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
  server.on("upgrade", onUpgrade);
  plainServer?.on("upgrade", onUpgrade);

  const port = await listen(server, options.port ?? 0, host);
  let plainPort: number | undefined;
  try {
    plainPort = plainServer ? await listen(plainServer, options.plainHttpPort!, host) : undefined;
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  const urlHost = options.advertisedHost ?? host;
  const authority = `${urlHost.includes(":") ? `[${urlHost}]` : urlHost}:${port}`;
  const secure = Boolean(options.tls);

  return {
    port,
    httpEndpoint: `${secure ? "https" : "http"}://${authority}/event`,
    realtimeEndpoint: `${secure ? "wss" : "ws"}://${authority}${REALTIME_PATH}`,
    ...(plainPort !== undefined ? { plainHttpEndpoint: `http://${host.includes(":") ? `[${host}]` : host}:${plainPort}/event` } : {}),
    published: broker.published,
    publishedTo: (channel) => {
      const path = channel.startsWith("/") ? channel : `/${channel}`;
      return broker.published.filter((r) => r.channel === path).flatMap((r) => r.events.map((e) => e.payload));
    },
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
      const servers = plainServer ? [server, plainServer] : [server];
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of servers) s.closeAllConnections();
      await Promise.all(closed);
    },
  };
}
