import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { HttpEventPublisher, PublishError } from "../../functions/lib/relay/publisher.js";
import { verifySigV4 } from "../../local/events/sigv4-auth.js";

const CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };
const EVENT: OutboundEvent = { type: "delta", conversationId: "c", text: "hi", requestId: "r", seq: 0 };

/** An /event endpoint that answers each request with the next scripted reply. */
async function scriptedEndpoint(replies: ((res: ServerResponse) => void)[]) {
  const received: { headers: IncomingMessage["headers"]; body: string }[] = [];
  const connections: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      const reply = replies[Math.min(received.length - 1, replies.length - 1)]!;
      reply(res);
    });
  });
  server.on("connection", (socket) => connections.push(socket));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/event`;
  servers.push(server);
  return { url, received, connections };
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const status = (code: number, body: unknown = {}) => (res: ServerResponse) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
const accepted = status(200, { successful: [{ identifier: "x", index: 0 }], failed: [] });
const hang = () => undefined;
/** Drops the connection without answering, as a server does to an idle keep-alive connection it closed. */
const dropConnection = (res: ServerResponse) => res.socket?.destroy();

function publisherFor(url: string, extra: Partial<ConstructorParameters<typeof HttpEventPublisher>[0]> = {}) {
  return new HttpEventPublisher({ endpoint: url, region: "us-east-1", credentials: CREDENTIALS, baseDelayMs: 1, ...extra });
}

describe("HTTP event publisher", () => {
  it("signs the request with SigV4 for appsync and sends events as JSON strings", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT]);
    const [request] = endpoint.received;
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/appsync\/aws4_request/);
    expect(JSON.parse(request!.body)).toEqual({ channel: "/Outbound-Messages/u1", events: [JSON.stringify(EVENT)] });
  });

  it("retries throttling and server errors, then succeeds", async () => {
    const endpoint = await scriptedEndpoint([status(429), status(503), accepted]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT]);
    expect(endpoint.received).toHaveLength(3);
  });

  it("does not retry a refusal", async () => {
    const endpoint = await scriptedEndpoint([status(401, { errors: [{ errorType: "UnauthorizedException" }] })]);
    await expect(publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT])).rejects.toMatchObject({ name: "PublishError", status: 401 });
    expect(endpoint.received).toHaveLength(1);
  });

  it("gives up after maxAttempts", async () => {
    const endpoint = await scriptedEndpoint([status(500)]);
    await expect(publisherFor(endpoint.url, { maxAttempts: 3 }).publish("/Outbound-Messages/u1", [EVENT])).rejects.toBeInstanceOf(PublishError);
    expect(endpoint.received).toHaveLength(3);
  });

  it("says how often it tried when server errors outlast its attempts", async () => {
    const endpoint = await scriptedEndpoint([status(500)]);
    await expect(publisherFor(endpoint.url, { maxAttempts: 2 }).publish("/Outbound-Messages/u1", [EVENT])).rejects.toMatchObject({
      message: "publish failed with HTTP 500 after 2 attempts",
      status: 500,
    });
  });

  it("takes a redirect as a refusal, not as delivery", async () => {
    const endpoint = await scriptedEndpoint([status(300)]);
    await expect(publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT])).rejects.toMatchObject({ message: "publish refused with HTTP 300", status: 300 });
    expect(endpoint.received).toHaveLength(1);
  });

  it("sends five events, the most one publish takes, in one request", async () => {
    const endpoint = await scriptedEndpoint([status(200, { successful: [], failed: [] })]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", Array.from({ length: 5 }, (_, seq) => ({ ...EVENT, seq })));
    expect(JSON.parse(endpoint.received[0]!.body).events).toHaveLength(5);
  });

  it("sends nothing for no events", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", []);
    expect(endpoint.received).toHaveLength(0);
  });

  it("treats events the API did not accept as a failed publish", async () => {
    const endpoint = await scriptedEndpoint([status(200, { successful: [], failed: [{ identifier: "x", index: 0, code: "E", message: "m" }] })]);
    await expect(publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT])).rejects.toThrow(/not accepted/);
    expect(endpoint.received).toHaveLength(1);
  });

  it("abandons an attempt that hangs and retries it", async () => {
    const endpoint = await scriptedEndpoint([hang, accepted]);
    await publisherFor(endpoint.url, { attemptTimeoutMs: 200 }).publish("/Outbound-Messages/u1", [EVENT]);
    expect(endpoint.received).toHaveLength(2);
  });

  it("keeps its connection alive: a turn's publishes share one connection", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    const publisher = publisherFor(endpoint.url);
    for (let seq = 0; seq < 4; seq++) await publisher.publish("/Outbound-Messages/u1", [{ ...EVENT, seq }]);
    expect(endpoint.received).toHaveLength(4);
    expect(endpoint.connections).toHaveLength(1);
    publisher.destroy();
  });

  it("signs with node:crypto hashes that an independent SigV4 verifier (sha256-js) accepts, body included", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    const events = [{ ...EVENT, text: "héllo ✓ 🎉" }];
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", events);
    const [request] = endpoint.received;
    const signed = { method: "POST", path: "/event", headers: request!.headers as Record<string, string>, body: request!.body };
    expect(await verifySigV4(signed, CREDENTIALS, "us-east-1")).not.toBeNull();
    expect(await verifySigV4({ ...signed, body: request!.body.replace("héllo", "hello") }, CREDENTIALS, "us-east-1")).toBeNull();
  });

  it("retries at once, on a new connection, when a kept-alive connection was closed while idle", async () => {
    const endpoint = await scriptedEndpoint([accepted, dropConnection, accepted]);
    // A backoff of this length would outlast the test's timeout: the retry must not wait.
    const publisher = publisherFor(endpoint.url, { baseDelayMs: 600_000, maxAttempts: 2 });
    await publisher.publish("/Outbound-Messages/u1", [EVENT]);
    await publisher.publish("/Outbound-Messages/u1", [{ ...EVENT, seq: 1 }]);
    expect(endpoint.received).toHaveLength(3);
    expect(endpoint.connections).toHaveLength(2);
    publisher.destroy();
  });

  it("refuses more than five events in one publish before sending anything", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    const six = Array.from({ length: 6 }, (_, seq) => ({ ...EVENT, seq }));
    await expect(publisherFor(endpoint.url).publish("/Outbound-Messages/u1", six)).rejects.toBeInstanceOf(PublishError);
    expect(endpoint.received).toHaveLength(0);
  });
});
