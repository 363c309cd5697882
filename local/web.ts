/**
 * The chat UI in local mode: serves web/dist and a generated config.json on
 * http://localhost:<port> (127.0.0.1 only), and relays the page's Events traffic (`POST /event`,
 * WebSocket `/event/realtime`) to the local Events server over its TLS listener.
 *
 * Why a relay: browsers do not trust the local CA, and Amplify's events client derives wss://
 * for any non-AWS endpoint. A page on http://localhost is a secure context that may open
 * ws://localhost, so the page talks plain HTTP/WS to its own origin and this server carries
 * it to the Events server, with the CA this process trusts. Only the page's own origin may
 * use the relay: every request to it must carry `Origin: <webUrl>` (browsers always send it
 * on WebSocket upgrades and POSTs), and every request must name this server in `Host` (so a
 * DNS-rebinding page cannot reach it under another name). The Origin is forwarded unchanged,
 * so an Events server that checks origins sees the web UI's.
 */
import { contentTypeOf } from "../web/content-types.js";
import { createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { WebConfig } from "../web/src/config.js";
import { contentSecurityPolicy, STATIC_SECURITY_HEADERS } from "../web/security-headers.js";

/** Where the relay sends the page's Events traffic. */
export interface EventsUpstream {
  /** The Events server's port on 127.0.0.1. */
  port: number;
  /** The CA to verify its certificate (it speaks TLS); absent for a plain server. */
  ca?: string;
}

export interface WebServerOptions {
  /** The built UI (web/dist). */
  distDir: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** config.json without `events` (the relay's own URLs go there). */
  config: Omit<WebConfig, "events">;
}

export interface WebServer {
  /** `http://localhost:<port>`: endpoints.json `webUrl` and the only origin the relay accepts. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  /** Starts relaying to the Events server (which may start after this server, to learn its origin). */
  relayTo(upstream: EventsUpstream): void;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `Web UI: port ${port} is already in use.` : `Web UI could not listen on ${HOST}:${port} (${error.code}).`)),
    );
    server.listen(port, HOST, () => resolve((server.address() as { port: number }).port));
  });
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  let upstream: EventsUpstream | undefined;
  const sockets = new Set<Duplex>();
  let origin = "";
  let allowedHosts: string[] = [];
  let config = "";
  let headers: Record<string, string> = {};

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts.includes(req.headers.host ?? "")) return void res.writeHead(421, { "content-type": "text/plain" }).end("Misdirected request\n");
    const path = new URL(req.url ?? "/", origin).pathname;
    if (path === "/event") return relayHttp(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405, { allow: "GET, HEAD" }).end();
    if (path === "/config.json") return send(res, req, 200, "application/json", config, "no-store");
    const file = await staticFile(options.distDir, path);
    if (file) return send(res, req, 200, contentTypeOf(file), await readFile(file), path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
    // SPA routing: any other page path is the app; a missing asset is a 404.
    if (extname(path)) return send(res, req, 404, "text/plain; charset=utf-8", "Not found\n", "no-store");
    return send(res, req, 200, contentTypeOf("index.html"), await readFile(join(options.distDir, "index.html")), "no-cache");
  };

  const send = (res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string | Buffer, cache: string) => {
    res.writeHead(status, { ...headers, "content-type": type, "cache-control": cache, "content-length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const refuse = (res: ServerResponse, status: number, message: string) =>
    void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ errorType: "ForbiddenException", message }] }));

  const relayHttp = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.origin !== origin) return refuse(res, 403, "Only the web UI may use this endpoint.");
    if (!upstream) return refuse(res, 503, "The Events API is still starting.");
    const send = upstream.ca ? httpsRequest : httpRequest;
    const forward = send(
      { host: HOST, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: `localhost:${upstream.port}` }, ca: upstream.ca, servername: "localhost" },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => (res.headersSent ? res.destroy() : refuse(res, 502, "The Events API is not reachable.")));
    req.pipe(forward);
  };

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const reject = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    if (!allowedHosts.includes(req.headers.host ?? "") || path !== "/event/realtime") return reject("404 Not Found");
    if (req.headers.origin !== origin) return reject("403 Forbidden");
    if (!upstream) return reject("503 Service Unavailable");
    relayUpgrade(req, socket, head, upstream, sockets);
  });

  const port = await listen(server, options.port ?? 0);
  origin = `http://localhost:${port}`;
  allowedHosts = [`localhost:${port}`, `127.0.0.1:${port}`];
  const events = { httpEndpoint: `${origin}/event`, realtimeEndpoint: `ws://localhost:${port}/event/realtime` };
  config = `${JSON.stringify({ ...options.config, events } satisfies WebConfig, null, 2)}\n`;
  headers = {
    ...STATIC_SECURITY_HEADERS,
    "content-security-policy": contentSecurityPolicy({
      connect: [events.httpEndpoint, events.realtimeEndpoint, ...(options.config.cognito.endpoint ? [options.config.cognito.endpoint] : [])],
    }),
  };

  return {
    url: origin,
    origin,
    port,
    relayTo: (target) => void (upstream = target),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The file under `dist` for a URL path, or undefined (never a path outside `dist`, never a dot file). */
async function staticFile(dist: string, path: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const relative = normalize(decoded === "/" ? "/index.html" : decoded).replace(/^([/\\])+/, "");
  if (relative.split(sep).some((part) => part === ".." || part.startsWith("."))) return undefined;
  const file = join(dist, relative);
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? file : undefined;
}

/**
 * Carries one WebSocket upgrade to the Events server byte for byte: the browser's handshake
 * (its key, subprotocols and Origin; only Host changes) goes upstream, the server's 101 and
 * every frame come back, so the two ends speak the protocol directly.
 */
function relayUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, upstream: EventsUpstream, sockets: Set<Duplex>): void {
  const target: Socket = upstream.ca
    ? tlsConnect({ host: HOST, port: upstream.port, ca: upstream.ca, servername: "localhost" })
    : netConnect({ host: HOST, port: upstream.port });
  sockets.add(socket);
  sockets.add(target);
  const end = () => {
    socket.destroy();
    target.destroy();
    sockets.delete(socket);
    sockets.delete(target);
  };
  target.on("error", end);
  target.on("close", end);
  socket.on("close", end);
  target.once(upstream.ca ? "secureConnect" : "connect", () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      lines.push(name.toLowerCase() === "host" ? `Host: localhost:${upstream.port}` : `${name}: ${req.rawHeaders[i + 1]}`);
    }
    target.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) target.write(head);
    socket.pipe(target).pipe(socket);
  });
}
