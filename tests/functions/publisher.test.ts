import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash, createHmac } from "node:crypto";
import { createServer as createTcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { ENV } from "../../functions/lib/env.js";
import { HttpEventPublisher, PublishError } from "../../functions/lib/relay/publisher.js";
import { eventPublisherFromEnv } from "../../functions/lib/runtime.js";
import { NodeSha256 } from "../../functions/lib/relay/sha256.js";
import { verifySigV4 } from "../../local/events/sigv4-auth.js";

const CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };
const EVENT: OutboundEvent = { type: "delta", conversationId: "c", text: "hi", requestId: "r", seq: 0 };

/** An /event endpoint that answers each request with the next scripted reply. */
async function scriptedEndpoint(replies: ((res: ServerResponse) => void)[]) {
  const received: { method?: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  const connections: Socket[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ method: req.method, headers: req.headers, body });
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
  vi.restoreAllMocks();
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

  it("takes a success status whose body is not JSON as accepted: it lists no failed events", async () => {
    const endpoint = await scriptedEndpoint([(res) => res.writeHead(200, { "content-type": "text/plain" }).end("OK")]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT]);
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

describe("HTTP event publisher: requests, retries and connections", () => {
  /** Waits recorded instead of slept; Math.random fixed at 0.5 so backoffs are exact. */
  function recordedWaits() {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const waits: number[] = [];
    return { waits, wait: async (ms: number) => void waits.push(ms) };
  }
  /** Headers, then half of the promised body, then the connection is cut. */
  const cutOff = (res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"successful":');
    setTimeout(() => res.socket?.destroy(), 10);
  };

  it("POSTs JSON and asks for JSON", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT]);
    const [request] = endpoint.received;
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers.accept).toBe("application/json");
    expect(Number(request!.headers["content-length"])).toBe(Buffer.byteLength(request!.body));
  });

  it("backs off with full jitter, doubling from the base delay and capped at 2 s", async () => {
    const { waits, wait } = recordedWaits();
    const endpoint = await scriptedEndpoint([status(429), status(503), status(500), status(502), accepted]);
    await publisherFor(endpoint.url, { baseDelayMs: 300, maxAttempts: 5, wait }).publish("/Outbound-Messages/u1", [EVENT]);
    expect(waits).toEqual([300, 600, 1000, 1000]);
  });

  it("starts from 50 ms and tries four times by default", async () => {
    const { waits, wait } = recordedWaits();
    const endpoint = await scriptedEndpoint([status(503)]);
    const publisher = new HttpEventPublisher({ endpoint: endpoint.url, region: "us-east-1", credentials: CREDENTIALS, wait });
    await expect(publisher.publish("/Outbound-Messages/u1", [EVENT])).rejects.toMatchObject({ message: "publish failed with HTTP 503 after 4 attempts" });
    expect(waits).toEqual([50, 100, 200]);
    publisher.destroy();
  });

  it("retries a 500 (the lowest server error), and says how often it tried when throttling outlasts its attempts", async () => {
    const retried = await scriptedEndpoint([status(500), accepted]);
    await publisherFor(retried.url).publish("/Outbound-Messages/u1", [EVENT]);
    expect(retried.received).toHaveLength(2);
    const throttled = await scriptedEndpoint([status(429)]);
    await expect(publisherFor(throttled.url, { maxAttempts: 2 }).publish("/Outbound-Messages/u1", [EVENT])).rejects.toMatchObject({
      message: "publish failed with HTTP 429 after 2 attempts",
      status: 429,
    });
  });

  it("backs off after a failure on a fresh connection, and retries a stale kept-alive one without waiting", async () => {
    const fresh = recordedWaits();
    const endpoint = await scriptedEndpoint([dropConnection, accepted]);
    const publisher = publisherFor(endpoint.url, { wait: fresh.wait });
    await publisher.publish("/Outbound-Messages/u1", [EVENT]);
    expect(fresh.waits).toHaveLength(1);
    publisher.destroy();

    const stale = recordedWaits();
    const kept = await scriptedEndpoint([accepted, dropConnection, accepted]);
    const reusing = publisherFor(kept.url, { wait: stale.wait });
    await reusing.publish("/Outbound-Messages/u1", [EVENT]);
    await reusing.publish("/Outbound-Messages/u1", [{ ...EVENT, seq: 1 }]);
    expect(kept.received).toHaveLength(3);
    expect(stale.waits).toEqual([]);
    reusing.destroy();
  });

  it("backs off after an attempt that timed out, even on a kept-alive connection", async () => {
    const { waits, wait } = recordedWaits();
    const endpoint = await scriptedEndpoint([accepted, hang, accepted]);
    const publisher = publisherFor(endpoint.url, { attemptTimeoutMs: 150, wait });
    await publisher.publish("/Outbound-Messages/u1", [EVENT]);
    await publisher.publish("/Outbound-Messages/u1", [{ ...EVENT, seq: 1 }]);
    expect(endpoint.received).toHaveLength(3);
    expect(waits).toHaveLength(1);
    publisher.destroy();
  });

  it("gives up on a network that keeps failing after maxAttempts, saying only that the network failed", async () => {
    const endpoint = await scriptedEndpoint([dropConnection]);
    await expect(publisherFor(endpoint.url, { maxAttempts: 2 }).publish("/Outbound-Messages/u1", [EVENT])).rejects.toMatchObject({
      name: "PublishError",
      message: "publish failed: network error",
      status: undefined,
    });
    expect(endpoint.received).toHaveLength(2);
  });

  it("takes an answer cut off before its end as a failed attempt, and retries it", async () => {
    const endpoint = await scriptedEndpoint([cutOff, accepted]);
    await publisherFor(endpoint.url).publish("/Outbound-Messages/u1", [EVENT]);
    expect(endpoint.received).toHaveLength(2);
  });

  it("keeps a kept-alive connection past its attempt timeout once the attempt has ended", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    const publisher = publisherFor(endpoint.url, { attemptTimeoutMs: 40 });
    await publisher.publish("/Outbound-Messages/u1", [EVENT]);
    await new Promise((r) => setTimeout(r, 120));
    await publisher.publish("/Outbound-Messages/u1", [{ ...EVENT, seq: 1 }]);
    expect(endpoint.connections).toHaveLength(1);
    publisher.destroy();
  });

  it("closes its idle connections on destroy", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    // The server would close an idle connection itself after 5 s; only destroy() may close it here.
    servers.at(-1)!.keepAliveTimeout = 600_000;
    const publisher = publisherFor(endpoint.url);
    await publisher.publish("/Outbound-Messages/u1", [EVENT]);
    const [socket] = endpoint.connections;
    const closed = new Promise((resolve) => socket!.once("close", resolve));
    publisher.destroy();
    await closed;
    expect(socket!.destroyed).toBe(true);
  });

  it("speaks TLS to an https endpoint", async () => {
    const firstBytes: Buffer[] = [];
    const server = createTcpServer((socket) => socket.once("data", (chunk: Buffer) => (firstBytes.push(chunk), socket.destroy())));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const publisher = new HttpEventPublisher({ endpoint: `https://127.0.0.1:${port}/event`, region: "us-east-1", credentials: CREDENTIALS, maxAttempts: 1 });
      await expect(publisher.publish("/Outbound-Messages/u1", [EVENT])).rejects.toBeInstanceOf(PublishError);
      // A TLS handshake record (0x16), not "POST".
      expect(firstBytes[0]![0]).toBe(0x16);
      publisher.destroy();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("names the limit when given more than five events", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    await expect(publisherFor(endpoint.url).publish("/Outbound-Messages/u1", Array.from({ length: 6 }, (_, seq) => ({ ...EVENT, seq })))).rejects.toThrow(
      "at most 5 events per publish",
    );
  });
});

describe("the worker's event publisher, from its environment", () => {
  it("signs with the Events key the environment names, else (half a key named) with the role's credentials", async () => {
    const endpoint = await scriptedEndpoint([accepted]);
    const keyIdOf = (i: number) => /Credential=([^/]+)\//.exec(String(endpoint.received[i]?.headers.authorization))?.[1];
    vi.stubEnv(ENV.eventsHttpEndpoint, endpoint.url);
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDROLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "role-secret");
    vi.stubEnv(ENV.eventsPublisherAccessKeyId, "AKIDEVENTS");
    vi.stubEnv(ENV.eventsPublisherSecretAccessKey, "events-secret");
    try {
      await eventPublisherFromEnv().publish("/Outbound-Messages/u1", [EVENT]);
      vi.stubEnv(ENV.eventsPublisherSecretAccessKey, "");
      await eventPublisherFromEnv().publish("/Outbound-Messages/u1", [EVENT]);
    } finally {
      vi.unstubAllEnvs();
    }
    expect([keyIdOf(0), keyIdOf(1)]).toEqual(["AKIDEVENTS", "AKIDROLE"]);
  });
});

describe("SigV4 hashing on node:crypto", () => {
  const digest = async (hash: NodeSha256) => Buffer.from(await hash.digest()).toString("hex");

  it("hashes strings, buffers, views into larger buffers and plain array buffers alike", async () => {
    const expected = createHash("sha256").update("héllo").digest("hex");
    const bytes = Buffer.from("héllo", "utf8");
    const padded = Buffer.concat([Buffer.from("xx"), bytes, Buffer.from("yy")]);
    for (const input of [
      "héllo",
      bytes,
      new Uint8Array(padded.buffer, padded.byteOffset + 2, bytes.length),
      new Uint8Array(bytes).buffer as unknown as Uint8Array,
    ]) {
      const hash = new NodeSha256();
      hash.update(input);
      expect(await digest(hash)).toBe(expected);
    }
  });

  it("keys an HMAC with the secret, as a string or as bytes, and starts over on reset", async () => {
    const expected = createHmac("sha256", "key").update("data").digest("hex");
    for (const secret of ["key", Buffer.from("key")]) {
      const hmac = new NodeSha256(secret);
      hmac.update("ignored");
      hmac.reset();
      hmac.update("data");
      expect(await digest(hmac)).toBe(expected);
    }
  });
});
