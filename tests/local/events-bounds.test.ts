import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { INBOUND_NAMESPACE, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import type { EventsLimits } from "../../local/events/limits.js";
import { startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";
import { cognitoHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";

const SUB = "77777777-aaaa-4aaa-8aaa-777777777777";
const IN = `/${INBOUND_NAMESPACE}/${SUB}`;
const OUT = `/${OUTBOUND_NAMESPACE}/${SUB}`;

let f: EventsFixture | undefined;
const clients: RawEventsClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  await f?.close();
  f = undefined;
});

async function start(limits: Partial<EventsLimits> = {}) {
  f = await startEventsFixture({ limits });
  return { f, token: f.issuer.accessToken({ sub: SUB }) };
}

async function connect(fixture: EventsFixture, token: string): Promise<RawEventsClient> {
  const client = await RawEventsClient.connect(fixture.server.realtimeEndpoint, cognitoHeaders(fixture.server.httpEndpoint, token));
  clients.push(client);
  return client;
}

/** Fails instead of hanging when the server never answers. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Sends the headers and only `sent` bytes of a body declared `declared` bytes long; resolves with the status. */
function partialPost(endpoint: string, headers: Record<string, string>, declared: number, sent: number) {
  const req = request(endpoint, { method: "POST", headers: { ...headers, "content-length": String(declared) } });
  const status = new Promise<number>((resolve) => {
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // Aborting a request the server never answered is how these tests end; 0 = no reply.
    req.on("error", () => resolve(0));
  });
  req.write("x".repeat(sent));
  return { status, abort: () => req.destroy() };
}

describe("request bodies", () => {
  it("are not read before the credentials are known to be worth checking: no credentials get 401 at once", async () => {
    const { f } = await start();
    const pending = partialPost(f.server.httpEndpoint, {}, 1_000_000, 10);
    try {
      expect(await within(pending.status, 5_000, "reply")).toBe(401);
    } finally {
      pending.abort();
    }
  });

  it("signed with a key the server does not hold are refused before the body arrives", async () => {
    const { f } = await start();
    const stranger = "AWS4-HMAC-SHA256 Credential=AKIDSTRANGER/20250101/us-east-1/appsync/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0".repeat(64);
    const pending = partialPost(f.server.httpEndpoint, { authorization: stranger, "x-amz-date": "20250101T000000Z" }, 1_000_000, 10);
    try {
      expect(await within(pending.status, 5_000, "reply")).toBe(401);
    } finally {
      pending.abort();
    }
  });

  it("declared larger than the bound are refused with 413 before reading, even from a signed-in user", async () => {
    const { f, token } = await start({ maxMessageBytes: 64 * 1024 });
    const pending = partialPost(f.server.httpEndpoint, { authorization: token }, 65 * 1024, 10);
    try {
      expect(await within(pending.status, 5_000, "reply")).toBe(413);
    } finally {
      pending.abort();
    }
  });

  it("that grow past the bound while streaming are cut off with 413", async () => {
    const { f, token } = await start({ maxMessageBytes: 64 * 1024 });
    const body = JSON.stringify({ channel: IN, events: [JSON.stringify({ pad: "x".repeat(70 * 1024) })] });
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      // Chunked: no Content-Length to refuse up front.
      const req = request(f.server.httpEndpoint, { method: "POST", headers: { authorization: token, "transfer-encoding": "chunked" } }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text).errors[0]).toMatchObject({ errorType: "BadRequestException", message: expect.stringContaining("64 KB") });
  });

  it("in progress at once are bounded: past the bound a request gets 429 TooManyRequestsException", async () => {
    const { f, token } = await start({ maxPendingRequests: 1 });
    const held = partialPost(f.server.httpEndpoint, { authorization: token }, 1000, 10);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const reply = await f.post(JSON.stringify({ channel: IN, events: ["{}"] }), { authorization: token });
      expect(reply.status).toBe(429);
      expect(reply.body.errors[0].errorType).toBe("TooManyRequestsException");
    } finally {
      held.abort();
    }
  });
});

describe("WebSocket connections", () => {
  it("past the bound get connection_error TooManyRequestsException and a close asking to retry later", async () => {
    const { f, token } = await start({ maxConnections: 2 });
    await (await connect(f, token)).init();
    await (await connect(f, token)).init();
    const third = await connect(f, token);
    const error = await within(third.nextOfType("connection_error"), 5_000, "connection_error");
    expect(error.errors).toEqual([expect.objectContaining({ errorType: "TooManyRequestsException" })]);
    expect((await third.closed).code).toBe(1013);
    expect(f.server.connectionCount()).toBe(2);
  });

  it("hold a bounded queue: messages past it are answered with LimitExceededError, not queued", async () => {
    const { f, token } = await start({ maxQueuedMessagesPerConnection: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    f.behaviour.onSubscribe = async () => {
      await gate;
      return null;
    };
    const client = await connect(f, token);
    await client.init();
    const auth = cognitoHeaders(f.server.httpEndpoint, token);
    for (const id of ["s1", "s2", "s3", "s4"]) client.send({ type: "subscribe", id, channel: OUT, authorization: auth });
    const refused = await within(client.reply("s3"), 5_000, "reply to s3");
    expect(refused).toMatchObject({ type: "error", id: "s3", errors: [{ errorType: "LimitExceededError" }] });
    expect((await client.reply("s4")).type).toBe("error");
    release();
    expect((await client.reply("s1")).type).toBe("subscribe_success");
    expect((await client.reply("s2")).type).toBe("subscribe_success");
  });

  it("of a client that stops reading are closed with 1008 once the send buffer bound is passed", async () => {
    const { f, token } = await start({ maxBufferedBytesPerConnection: 256 * 1024 });
    const client = await connect(f, token);
    await client.init();
    const { reply } = await client.subscribe(OUT, cognitoHeaders(f.server.httpEndpoint, token));
    expect(reply.type).toBe("subscribe_success");
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const event = JSON.stringify({ pad: "x".repeat(200 * 1024) });
    for (let i = 0; i < 120; i++) {
      expect((await f.postSigned(JSON.stringify({ channel: OUT, events: [event] }))).status).toBe(200);
    }
    socket.resume();
    const closed = await within(client.closed, 10_000, "close");
    expect(closed.code).toBe(1008);
  });
});
