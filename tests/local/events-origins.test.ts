import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INBOUND_NAMESPACE, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { startEventsServer } from "../../local/events/server.js";
import { IAM, startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";
import { authProtocol, cognitoHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";

const SUB = "55555555-eeee-4eee-8eee-555555555555";
const IN = `/${INBOUND_NAMESPACE}/${SUB}`;
const OUT = `/${OUTBOUND_NAMESPACE}/${SUB}`;
const WEB = "http://localhost:5173";
const HOSTILE = "http://evil.example";

let f: EventsFixture;
let token: string;
const publishBody = (channel: string) => JSON.stringify({ channel, events: [JSON.stringify({ hello: "world" })] });

beforeAll(async () => {
  f = await startEventsFixture({ allowedOrigins: [WEB] });
  token = f.issuer.accessToken({ sub: SUB });
});

afterAll(async () => {
  await f?.close();
});

/** The HTTP status of a refused handshake, or 101 when it was accepted. */
function handshakeStatus(origin: string | undefined): Promise<number> {
  const ws = new WebSocket(f.server.realtimeEndpoint, ["aws-appsync-event-ws", authProtocol(cognitoHeaders(f.server.httpEndpoint, token))], {
    ...(origin ? { origin } : {}),
  });
  ws.on("error", () => undefined); // a refused handshake also reports an error; the status is what counts
  return new Promise((resolve) => {
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve(101);
      ws.terminate();
    });
  });
}

describe("POST /event from a browser", () => {
  it("refuses a page from a foreign origin even with valid credentials, and publishes nothing", async () => {
    const before = f.server.published.length;
    const reply = await f.post(publishBody(IN), { authorization: token, origin: HOSTILE });
    expect(reply.status).toBe(403);
    expect(reply.body.errors[0]).toMatchObject({ errorType: "UnauthorizedException" });
    expect(reply.headers["access-control-allow-origin"]).toBeUndefined();
    expect(f.server.published.length).toBe(before);
  });

  it("refuses the opaque null origin of sandboxed frames and file pages", async () => {
    const reply = await f.post(publishBody(IN), { authorization: token, origin: "null" });
    expect(reply.status).toBe(403);
  });

  it("serves a page from an allowed origin, echoing only that origin and varying on it", async () => {
    const reply = await f.post(publishBody(IN), { authorization: token, origin: WEB });
    expect(reply.status).toBe(200);
    expect(reply.headers["access-control-allow-origin"]).toBe(WEB);
    expect(reply.headers.vary).toBe("Origin");
  });

  it("answers an allowed origin's preflight with the AppSync auth headers, and refuses a foreign one's", async () => {
    const preflight = { "access-control-request-method": "POST", "access-control-request-headers": "authorization" };
    const allowed = await f.post("", { ...preflight, origin: WEB }, { method: "OPTIONS" });
    expect(allowed.status).toBe(204);
    expect(allowed.headers["access-control-allow-origin"]).toBe(WEB);
    const headers = String(allowed.headers["access-control-allow-headers"]).split(/,\s*/);
    expect(headers).toEqual(expect.arrayContaining(["authorization", "x-amz-date", "x-amz-security-token", "content-type"]));

    const foreign = await f.post("", { ...preflight, origin: HOSTILE }, { method: "OPTIONS" });
    expect(foreign.status).toBe(403);
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("judges a request without Origin (a Node client) by its credentials alone, with no CORS headers", async () => {
    const reply = await f.post(publishBody(IN), { authorization: token });
    expect(reply.status).toBe(200);
    expect(reply.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await f.post(publishBody(IN), {})).status).toBe(401);
  });
});

describe("WebSocket handshakes from a browser", () => {
  it("are refused with 403 from a foreign origin, before the token is even looked at", async () => {
    expect(await handshakeStatus(HOSTILE)).toBe(403);
    expect(await handshakeStatus("null")).toBe(403);
  });

  it("are accepted from an allowed origin and without any Origin", async () => {
    expect(await handshakeStatus(WEB)).toBe(101);
    expect(await handshakeStatus(undefined)).toBe(101);
    const client = await RawEventsClient.connect(f.server.realtimeEndpoint, cognitoHeaders(f.server.httpEndpoint, token), { origin: WEB });
    try {
      expect((await client.init()).type).toBe("connection_ack");
      expect((await client.subscribe(OUT, cognitoHeaders(f.server.httpEndpoint, token))).reply.type).toBe("subscribe_success");
    } finally {
      await client.close();
    }
  });
});

describe("a server with no allowed origins (npm start before the web UI)", () => {
  it("refuses every browser page, localhost included", async () => {
    const closed = await startEventsFixture();
    try {
      const reply = await closed.post(publishBody(IN), { authorization: token, origin: WEB });
      expect(reply.status).toBe(403);
    } finally {
      await closed.close();
    }
  });

  it("rejects an allowedOrigins entry that is not an origin", async () => {
    const options = { region: "us-east-1", namespaces: [], auth: { verifyCognitoToken: async () => null, iamCredentials: IAM } };
    await expect(startEventsServer({ ...options, allowedOrigins: ["http://localhost:5173/app"] })).rejects.toThrow(/not an origin/);
  });
});
