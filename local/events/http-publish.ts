/**
 * `POST /event`: AppSync Events' HTTP publish. Body `{ channel, events: [JSON strings] }`,
 * reply `{ successful: [{identifier, index}], failed: [...] }`, or a non-2xx status with
 * `{ errors: [{ errorType, message }] }`. CORS lets browsers publish with their own headers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventsBroker, RequestContext } from "./broker.js";
import { badRequest, EventsApiError, toEventsApiError } from "./errors.js";
import { plainHeaders } from "./headers.js";

export const EVENT_PATH = "/event";
/** Five 240 KB events, escaped inside the JSON body, fit well below this. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers":
    "authorization, content-type, x-amz-date, x-amz-security-token, x-amz-content-sha256, x-amz-user-agent, x-api-key",
  "access-control-max-age": "86400",
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: EventsApiError): void {
  sendJson(res, error.statusCode, { errors: [error.toItem()] });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(badRequest("The request body is too large."));
        req.destroy();
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
export async function handleHttpRequest(req: IncomingMessage, res: ServerResponse, broker: EventsBroker): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname !== EVENT_PATH) {
    return sendJson(res, 404, { errors: [{ errorType: "NotFoundException", message: "Not found." }] });
  }
  if (req.method === "OPTIONS") {
    res.writeHead(204, CORS_HEADERS);
    return void res.end();
  }
  if (req.method !== "POST") {
    return sendError(res, new EventsApiError("BadRequestException", "Only POST is supported on /event.", 405));
  }
  try {
    const body = await readBody(req);
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
    };
    sendJson(res, 200, await broker.publish(channel, events, ctx, "http"));
  } catch (error) {
    sendError(res, toEventsApiError(error));
  }
}
