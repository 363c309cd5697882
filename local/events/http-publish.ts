/**
 * `POST /event`: AppSync Events' HTTP publish. Body `{ channel, events: [JSON strings] }`,
 * reply `{ successful: [{identifier, index}], failed: [...] }`, or a non-2xx status with
 * `{ errors: [{ errorType, message }] }`. Browsers get CORS headers only when their page is
 * one of the gateway's own origins; other listeners (the worker's) serve no browser at all.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { credentialsLookPlausible } from "./auth.js";
import type { EventsBroker, RequestContext } from "./broker.js";
import { badRequest, EventsApiError, foreignOrigin, toEventsApiError, tooManyRequests, unauthorized } from "./errors.js";
import { plainHeaders } from "./headers.js";
import type { ListenerPolicy } from "./listener-policy.js";
import { isSigV4Authorization } from "./sigv4-auth.js";

export const EVENT_PATH = "/event";

const CORS_HEADERS = {
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers":
    "authorization, content-type, x-amz-date, x-amz-security-token, x-amz-content-sha256, x-amz-user-agent, x-api-key",
  "access-control-max-age": "600",
};

type Headers = Record<string, string | number>;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: EventsApiError, headers: Headers): void {
  sendJson(res, error.statusCode, { errors: [error.toItem()] }, headers);
}

const tooLarge = (limit: number) =>
  new EventsApiError("BadRequestException", `The request body is larger than ${Math.floor(limit / 1024)} KB.`, 413);

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge(limit));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

/** Handles one HTTP request to the Events API (every path other than the WebSocket upgrade). */
export async function handleHttpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  broker: EventsBroker,
  policy: ListenerPolicy,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const origin = policy.origins.judge(req.headers.origin);
  // Every reply may differ by Origin, so caches must key on it.
  const headers: Headers = { vary: "Origin" };
  if (origin === "allowed" && policy.surface === "client") headers["access-control-allow-origin"] = req.headers.origin as string;
  // A body left unread is not drained: the connection closes after an early refusal.
  const refuse = (error: EventsApiError) => {
    if (!req.complete) headers.connection = "close";
    sendError(res, error, headers);
  };

  if (url.pathname !== EVENT_PATH) {
    if (!req.complete) headers.connection = "close";
    return sendJson(res, 404, { errors: [{ errorType: "NotFoundException", message: "Not found." }] }, headers);
  }
  if (origin === "refused" || (origin === "allowed" && policy.surface !== "client")) return refuse(foreignOrigin());
  if (req.method === "OPTIONS" && policy.surface === "client") {
    res.writeHead(204, origin === "allowed" ? { ...headers, ...CORS_HEADERS } : headers);
    return void res.end();
  }
  if (req.method !== "POST") {
    return refuse(new EventsApiError("BadRequestException", "Only POST is supported on /event.", 405));
  }
  if (policy.surface === "publisher" && !isSigV4Authorization(req.headers.authorization)) return refuse(unauthorized());
  const declaredLength = Number(req.headers["content-length"] ?? 0);
  if (declaredLength > policy.limits.maxMessageBytes) return refuse(tooLarge(policy.limits.maxMessageBytes));
  if (!policy.pending.tryAcquire()) return refuse(tooManyRequests("The server has too many requests in progress; try again shortly."));
  try {
    // Credentials first, so an unauthenticated client cannot make the server read and hold a body.
    if (!(await credentialsLookPlausible(req.headers, broker.authOptions, broker.region))) return refuse(unauthorized());
    const body = await readBody(req, policy.limits.maxMessageBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw badRequest("The request body is not valid JSON.");
    }
    const { channel, events } = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
    const query: Record<string, string | string[]> = {};
    for (const key of url.searchParams.keys()) query[key] = url.searchParams.getAll(key);
    const ctx: RequestContext = {
      auth: { headers: req.headers, method: req.method, path: url.pathname, query, body },
      sourceIp: sourceIpOf(req),
      requestHeaders: plainHeaders(req.headers),
      listenerAuthModes: policy.authModes,
    };
    sendJson(res, 200, await broker.publish(channel, events, ctx, "http"), headers);
  } catch (error) {
    refuse(toEventsApiError(error));
  } finally {
    policy.pending.release();
  }
}
