import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INBOUND_NAMESPACE, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { IAM, REGION, sendHttp, startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";
import { authProtocol, cognitoHeaders, iamHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";

const SUB = "66666666-ffff-4fff-8fff-666666666666";
const IN = `/${INBOUND_NAMESPACE}/${SUB}`;
const OUT = `/${OUTBOUND_NAMESPACE}/${SUB}`;

let f: EventsFixture;
let token: string;
let worker: string;
const publishBody = (channel: string) => JSON.stringify({ channel, events: [JSON.stringify({ type: "delta", text: "hi" })] });

beforeAll(async () => {
  f = await startEventsFixture({ plainListeners: [{ name: "worker", port: 0, surface: "publisher" }], allowedOrigins: ["http://localhost:5173"] });
  token = f.issuer.accessToken({ sub: SUB });
  worker = f.server.listeners.worker!.httpEndpoint;
});

afterAll(async () => {
  await f?.close();
});

describe("the publisher listener (the worker's)", () => {
  it("is a separate loopback port with only an HTTP endpoint", () => {
    const { port, surface, realtimeEndpoint } = f.server.listeners.worker!;
    expect(port).not.toBe(f.server.port);
    expect(surface).toBe("publisher");
    expect(realtimeEndpoint).toBeUndefined();
    expect(worker).toBe(`http://127.0.0.1:${port}/event`);
  });

  it("takes a SigV4-signed publish to an outbound channel and delivers it to subscribers", async () => {
    const client = await RawEventsClient.connect(f.server.realtimeEndpoint, cognitoHeaders(f.server.httpEndpoint, token));
    try {
      await client.init();
      const { id } = await client.subscribe(OUT, cognitoHeaders(f.server.httpEndpoint, token));
      const reply = await f.postSigned(publishBody(OUT), undefined, worker);
      expect(reply.status).toBe(200);
      expect(await client.nextEvent(id)).toEqual({ type: "delta", text: "hi" });
    } finally {
      await client.close();
    }
  });

  it("refuses a signed publish to an inbound channel (IAM may not publish there)", async () => {
    expect((await f.postSigned(publishBody(IN), undefined, worker)).status).toBe(401);
  });

  it("refuses a user's token, which the main listener accepts", async () => {
    expect((await sendHttp(new URL(worker), publishBody(IN), { authorization: token })).status).toBe(401);
    expect((await f.post(publishBody(IN), { authorization: token })).status).toBe(200);
  });

  it("refuses WebSocket upgrades, so nobody subscribes through it", async () => {
    const url = worker.replace("http://", "ws://").replace(/\/event$/, "/event/realtime");
    const ws = new WebSocket(url, ["aws-appsync-event-ws", authProtocol(await iamHeaders(f.server.httpEndpoint, "{}", IAM, REGION))]);
    ws.on("error", () => undefined);
    const status = await new Promise<number>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
    });
    ws.terminate();
    expect(status).toBe(404);
  });

  it("serves no browser (any Origin, allowed ones included), no preflight and no other path", async () => {
    const url = new URL(worker);
    expect((await sendHttp(url, publishBody(OUT), { origin: "http://localhost:5173" })).status).toBe(403);
    const preflight = await sendHttp(url, "", { origin: "http://localhost:5173", "access-control-request-method": "POST" }, { method: "OPTIONS" });
    expect(preflight.status).toBe(403);
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await sendHttp(new URL("/other", url), "{}", {})).status).toBe(404);
    expect((await sendHttp(url, undefined, {}, { method: "GET" })).status).toBe(405);
  });
});
