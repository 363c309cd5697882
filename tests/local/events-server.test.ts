import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INBOUND_NAMESPACE, isOwnChannel, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { IAM, REGION, startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";
import { cognitoHeaders, iamHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";

const ALICE = "11111111-aaaa-4aaa-8aaa-111111111111";
const BOB = "22222222-bbbb-4bbb-8bbb-222222222222";

let f: EventsFixture;
let aliceToken: string;
const clients: RawEventsClient[] = [];

async function connect(token: string = aliceToken): Promise<RawEventsClient> {
  const client = await RawEventsClient.connect(f.server.realtimeEndpoint, cognitoHeaders(f.server.httpEndpoint, token));
  clients.push(client);
  const ack = await client.init();
  expect(ack.type).toBe("connection_ack");
  return client;
}

const userAuth = (token: string = aliceToken) => cognitoHeaders(f.server.httpEndpoint, token);
const iamAuth = (body: Record<string, unknown>) => iamHeaders(f.server.httpEndpoint, JSON.stringify(body), IAM, REGION);
const outbound = (sub: string, ...rest: string[]) => [`/${OUTBOUND_NAMESPACE}`, sub, ...rest].join("/");
const inbound = (sub: string) => `/${INBOUND_NAMESPACE}/${sub}`;

beforeAll(async () => {
  f = await startEventsFixture();
  aliceToken = f.issuer.accessToken({ sub: ALICE, username: "alice", groups: ["pro"] });
  // The gateway's authorizer rule, so subscribe refusals come from a handler as in production.
  f.behaviour.onSubscribe = (event) =>
    event.info.channelNamespace.name === OUTBOUND_NAMESPACE &&
    !isOwnChannel(event.info.channel.segments, OUTBOUND_NAMESPACE, (event.identity as { sub?: string }).sub)
      ? { error: "You can only subscribe to your own channel." }
      : null;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await f?.close();
});

describe("WebSocket connection", () => {
  it("selects the aws-appsync-event-ws subprotocol and answers connection_init with connection_ack and ka", async () => {
    const client = await RawEventsClient.connect(f.server.realtimeEndpoint, userAuth());
    clients.push(client);
    expect(client.ws.protocol).toBe("aws-appsync-event-ws");
    const ack = await client.init();
    expect(ack).toEqual({ type: "connection_ack", connectionTimeoutMs: 300_000 });
    expect(await client.nextOfType("ka")).toEqual({ type: "ka" });
  });

  it("keeps sending ka at the configured interval", async () => {
    const fast = await startEventsFixture({ keepAliveIntervalMs: 10 });
    try {
      const token = fast.issuer.accessToken({ sub: ALICE });
      const client = await RawEventsClient.connect(fast.server.realtimeEndpoint, cognitoHeaders(fast.server.httpEndpoint, token));
      await client.init();
      // One ka follows the ack at once; the next three can only come from the interval timer.
      for (let i = 0; i < 4; i++) expect(await client.nextOfType("ka")).toEqual({ type: "ka" });
      await client.close();
    } finally {
      await fast.close();
    }
  });

  it("accepts a connection authorized with IAM headers signed over an empty JSON body", async () => {
    const client = await RawEventsClient.connect(f.server.realtimeEndpoint, await iamHeaders(f.server.httpEndpoint, "{}", IAM, REGION));
    clients.push(client);
    expect((await client.init()).type).toBe("connection_ack");
  });
});

describe("subscribe and data", () => {
  it("delivers an event published over HTTP with IAM as one data message whose event is a JSON string", async () => {
    const client = await connect();
    const { id, reply } = await client.subscribe(outbound(ALICE), userAuth());
    expect(reply).toEqual({ type: "subscribe_success", id });

    const payload = { type: "delta", requestId: "r1", seq: 1, text: "Hello" };
    const res = await f.postSigned(JSON.stringify({ channel: outbound(ALICE), events: [JSON.stringify(payload)] }));
    expect(res.status).toBe(200);
    expect(res.body.failed).toEqual([]);
    expect(res.body.successful).toEqual([{ identifier: expect.any(String), index: 0 }]);

    const data = await client.nextOfType("data", id);
    expect(typeof data.event).toBe("string");
    expect(JSON.parse(data.event as string)).toEqual(payload);
    expect(f.server.publishedTo(outbound(ALICE))).toContainEqual(payload);
  });

  it("delivers a batch's events in order, one data message each", async () => {
    const client = await connect();
    const { id } = await client.subscribe(outbound(ALICE), userAuth());
    const events = [1, 2, 3, 4, 5].map((seq) => JSON.stringify({ seq }));
    const res = await f.postSigned(JSON.stringify({ channel: outbound(ALICE), events }));
    expect(res.body.successful.map((s: { index: number }) => s.index)).toEqual([0, 1, 2, 3, 4]);
    for (const seq of [1, 2, 3, 4, 5]) expect(await client.nextEvent(id)).toEqual({ seq });
  });

  it("delivers to a wildcard subscription every channel below its prefix, at any depth, and nothing else", async () => {
    const iamClient = await RawEventsClient.connect(f.server.realtimeEndpoint, await iamHeaders(f.server.httpEndpoint, "{}", IAM, REGION));
    clients.push(iamClient);
    await iamClient.init();
    const wildcard = `/${INBOUND_NAMESPACE}/*`;
    const { id, reply } = await iamClient.subscribe(wildcard, await iamAuth({ channel: wildcard }));
    expect(reply.type).toBe("subscribe_success");

    const bobToken = f.issuer.accessToken({ sub: BOB });
    for (const [channel, token, n] of [
      [inbound(ALICE), aliceToken, 1],
      [`${inbound(BOB)}/deeper/still`, bobToken, 2],
    ] as const) {
      const res = await f.post(JSON.stringify({ channel, events: [JSON.stringify({ n })] }), { authorization: token });
      expect(res.status).toBe(200);
    }
    // A publish to another namespace must not reach it: the next data is the marker after it.
    await f.postSigned(JSON.stringify({ channel: outbound(ALICE), events: [JSON.stringify({ other: true })] }));
    await f.post(JSON.stringify({ channel: inbound(ALICE), events: [JSON.stringify({ n: 3 })] }), { authorization: aliceToken });
    expect(await iamClient.nextEvent(id)).toEqual({ n: 1 });
    expect(await iamClient.nextEvent(id)).toEqual({ n: 2 });
    expect(await iamClient.nextEvent(id)).toEqual({ n: 3 });
  });

  it("does not deliver a sub-channel to an exact subscription", async () => {
    const client = await connect();
    const { id } = await client.subscribe(outbound(ALICE), userAuth());
    await f.postSigned(JSON.stringify({ channel: outbound(ALICE, "child"), events: [JSON.stringify({ child: true })] }));
    await f.postSigned(JSON.stringify({ channel: outbound(ALICE), events: [JSON.stringify({ own: true })] }));
    expect(await client.nextEvent(id)).toEqual({ own: true });
  });

  it("stops delivering after unsubscribe_success", async () => {
    const client = await connect();
    const first = await client.subscribe(outbound(ALICE), userAuth());
    const second = await client.subscribe(outbound(ALICE), userAuth());
    expect(second.reply.type).toBe("subscribe_success");
    expect(await client.unsubscribe(first.id)).toEqual({ type: "unsubscribe_success", id: first.id });
    await f.postSigned(JSON.stringify({ channel: outbound(ALICE), events: [JSON.stringify({ after: true })] }));
    // Delivery follows subscription order, so a still-live first subscription would be served first.
    const next = await client.nextOfType("data");
    expect(next.id).toBe(second.id);
    expect(await client.unsubscribe(first.id)).toMatchObject({
      type: "unsubscribe_error",
      errors: [{ errorType: "UnknownOperationError" }],
    });
  });
});

describe("publish over WebSocket", () => {
  it("acknowledges with publish_success and broadcasts to subscribers", async () => {
    const subscriber = await RawEventsClient.connect(f.server.realtimeEndpoint, await iamHeaders(f.server.httpEndpoint, "{}", IAM, REGION));
    clients.push(subscriber);
    await subscriber.init();
    const sub = await subscriber.subscribe(inbound(ALICE), await iamAuth({ channel: inbound(ALICE) }));
    expect(sub.reply.type).toBe("subscribe_success");

    const publisher = await connect();
    const reply = await publisher.publish(inbound(ALICE), [{ action: "chat", message: "hi" }], userAuth());
    expect(reply).toMatchObject({ type: "publish_success", failed: [] });
    expect(reply.successful).toEqual([{ identifier: expect.any(String), index: 0 }]);
    expect(await subscriber.nextEvent(sub.id)).toEqual({ action: "chat", message: "hi" });
  });

  it("accepts a publish signed with IAM over the message's channel and events", async () => {
    const client = await connect();
    const { id } = await client.subscribe(outbound(ALICE), userAuth());
    const iamClient = await RawEventsClient.connect(f.server.realtimeEndpoint, await iamHeaders(f.server.httpEndpoint, "{}", IAM, REGION));
    clients.push(iamClient);
    await iamClient.init();
    const events = [JSON.stringify({ type: "done" })];
    const authorization = await iamAuth({ channel: outbound(ALICE), events });
    iamClient.send({ type: "publish", id: "p-iam", channel: outbound(ALICE), events, authorization });
    expect((await iamClient.reply("p-iam")).type).toBe("publish_success");
    expect(await client.nextEvent(id)).toEqual({ type: "done" });
  });
});

describe("namespace handlers", () => {
  it("invokes onPublish asynchronously with an AppSync-shaped PUBLISH event after acknowledging", async () => {
    const before = f.invocations.length;
    const token = f.issuer.accessToken({ sub: ALICE, username: "alice", groups: ["pro"] });
    const payloads = [{ action: "chat", requestId: "a" }, { action: "usage", requestId: "b" }];
    const res = await f.post(
      JSON.stringify({ channel: inbound(ALICE), events: payloads.map((p) => JSON.stringify(p)) }),
      { authorization: token, "content-type": "application/json" },
    );
    expect(res.status).toBe(200);
    await f.server.idle();
    const invocation = f.invocations.slice(before).find((i) => i.handler === "onPublish")!;
    const event = invocation.event;
    expect(event.info).toEqual({
      channel: { path: inbound(ALICE), segments: [INBOUND_NAMESPACE, ALICE] },
      channelNamespace: { name: INBOUND_NAMESPACE },
      operation: "PUBLISH",
    });
    expect(event.identity).toMatchObject({
      sub: ALICE,
      issuer: f.issuer.issuer,
      username: "alice",
      groups: ["pro"],
      sourceIp: ["127.0.0.1"],
      defaultAuthStrategy: "ALLOW",
      claims: { sub: ALICE, token_use: "access", client_id: f.issuer.clientId },
    });
    expect(event.request.headers.authorization).toBe(token);
    expect(event.events).toEqual(
      res.body.successful.map((s: { identifier: string; index: number }) => ({ id: s.identifier, payload: payloads[s.index] })),
    );
    expect(event).toMatchObject({ stash: {}, outErrors: [] });
  });

  it("refuses a subscription with subscribe_error UnauthorizedException when onSubscribe returns an error", async () => {
    const client = await connect();
    const { reply } = await client.subscribe(outbound(BOB), userAuth());
    expect(reply).toMatchObject({
      type: "subscribe_error",
      errors: [{ errorType: "UnauthorizedException", message: "You can only subscribe to your own channel." }],
    });
    const invocation = f.invocations.filter((i) => i.handler === "onSubscribe").at(-1)!;
    expect(invocation.event.info).toEqual({
      channel: { path: outbound(BOB), segments: [OUTBOUND_NAMESPACE, BOB] },
      channelNamespace: { name: OUTBOUND_NAMESPACE },
      operation: "SUBSCRIBE",
    });
    expect(invocation.event.events).toBeNull();
    expect(invocation.event.request.headers.authorization).toBe(aliceToken);
  });

  it("refuses a subscription with a fixed message when onSubscribe throws, and reports the failure", async () => {
    const previous = f.behaviour.onSubscribe;
    f.behaviour.onSubscribe = () => {
      throw new Error("secret internal detail");
    };
    try {
      const client = await connect();
      const { reply } = await client.subscribe(outbound(ALICE), userAuth());
      expect(reply).toMatchObject({ type: "subscribe_error", errors: [{ errorType: "InternalFailureException" }] });
      expect(JSON.stringify(reply)).not.toContain("secret internal detail");
      expect(f.handlerFailures.at(-1)).toMatchObject({ operation: "SUBSCRIBE", channel: outbound(ALICE) });
    } finally {
      f.behaviour.onSubscribe = previous;
    }
  });
});

describe("close", () => {
  it("terminates every WebSocket when the server closes", async () => {
    const other = await startEventsFixture();
    const token = other.issuer.accessToken({ sub: ALICE });
    const client = await RawEventsClient.connect(other.server.realtimeEndpoint, cognitoHeaders(other.server.httpEndpoint, token));
    await client.init();
    expect(other.server.connectionCount()).toBe(1);
    await other.close();
    expect((await client.closed).code).toBeGreaterThan(0);
    expect(other.server.connectionCount()).toBe(0);
  });
});
