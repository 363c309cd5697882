import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INBOUND_NAMESPACE, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { IAM, REGION, startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";
import { cognitoHeaders, iamHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";

const SUB = "33333333-cccc-4ccc-8ccc-333333333333";
const OUT = `/${OUTBOUND_NAMESPACE}/${SUB}`;
const IN = `/${INBOUND_NAMESPACE}/${SUB}`;

let f: EventsFixture;
let token: string;
let client: RawEventsClient;

const body = (channel: unknown, events: unknown) => JSON.stringify({ channel, events });
const one = (value: unknown = { ok: true }) => [JSON.stringify(value)];
const errorOf = (reply: { body: any }) => reply.body.errors[0];

beforeAll(async () => {
  f = await startEventsFixture();
  token = f.issuer.accessToken({ sub: SUB });
  client = await RawEventsClient.connect(f.server.realtimeEndpoint, cognitoHeaders(f.server.httpEndpoint, token));
  await client.init();
});

afterAll(async () => {
  await client?.close();
  await f?.close();
});

describe("POST /event refuses", () => {
  it("a request without credentials, with 401 UnauthorizedException", async () => {
    const reply = await f.post(body(IN, one()), { "content-type": "application/json" });
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({
      errors: [{ errorType: "UnauthorizedException", message: "You are not authorized to make this call." }],
    });
  });

  it.each([
    ["a malformed token", () => "not-a-jwt"],
    ["a token signed by another key", () => f.issuer.forgedToken({ sub: SUB })],
    ["an expired token", () => f.issuer.accessToken({ sub: SUB, exp: Math.floor(Date.now() / 1000) - 60 })],
    ["a token for another app client", () => f.issuer.accessToken({ sub: SUB, clientId: "someone-else" })],
    ["an id token for another app client", () => f.issuer.idToken({ sub: SUB, clientId: "someone-else" })],
    ["a token from another issuer", () => f.issuer.accessToken({ sub: SUB, issuer: "http://127.0.0.1:1/other" })],
    ["a refresh-style token_use", () => f.issuer.accessToken({ sub: SUB, tokenUse: "refresh" as "access" })],
  ])("%s, with 401", async (_name, makeToken) => {
    const reply = await f.post(body(IN, one()), { authorization: makeToken() });
    expect(reply.status).toBe(401);
    expect(errorOf(reply).errorType).toBe("UnauthorizedException");
  });

  it("a Cognito token on a namespace that only allows IAM publishes (foreign auth mode)", async () => {
    const reply = await f.post(body(OUT, one()), { authorization: token });
    expect(reply.status).toBe(401);
    expect(errorOf(reply).errorType).toBe("UnauthorizedException");
    expect(f.server.publishedTo(OUT)).toEqual([]);
  });

  it("an IAM signature on a namespace that only allows Cognito publishes (foreign auth mode)", async () => {
    const reply = await f.postSigned(body(IN, one()));
    expect(reply.status).toBe(401);
  });

  it.each([
    ["a wrong secret key", { ...IAM, secretAccessKey: "wrong" }],
    ["an unknown access key", { ...IAM, accessKeyId: "AKIDSOMEONEELSE" }],
  ])("a SigV4 signature made with %s", async (_name, credentials) => {
    const reply = await f.postSigned(body(OUT, one()), credentials);
    expect(reply.status).toBe(401);
  });

  it("a SigV4-signed request whose body was changed after signing", async () => {
    const endpoint = new URL(f.server.httpEndpoint);
    const { signRequest } = await import("../../local/events/testing/fixture.js");
    const headers = await signRequest(endpoint, body(OUT, one({ amount: 1 })), IAM);
    const reply = await f.post(body(OUT, one({ amount: 1000 })), headers);
    expect(reply.status).toBe(401);
    expect(f.server.publishedTo(OUT)).not.toContainEqual({ amount: 1000 });
  });

  it("six events in one publish, with 400 BadRequestException", async () => {
    const six = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i }));
    const reply = await f.post(body(IN, six), { authorization: token });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).errorType).toBe("BadRequestException");
  });

  it("an event larger than 240 KB, and accepts one of exactly 240 KB", async () => {
    const sized = (bytes: number) => JSON.stringify("x".repeat(bytes - 2));
    const tooBig = await f.post(body(IN, [sized(240 * 1024 + 1)]), { authorization: token });
    expect(tooBig.status).toBe(400);
    expect(errorOf(tooBig).message).toContain("240 KB");
    const atLimit = await f.post(body(IN, [sized(240 * 1024)]), { authorization: token });
    expect(atLimit.status).toBe(200);
  });

  it.each([
    ["an empty events array", body(IN, [])],
    ["events that are not strings", body(IN, [{ a: 1 }])],
    ["an event that is not JSON", body(IN, ["{nope"])],
    ["a body that is not JSON", "{"],
  ])("%s, with 400", async (_name, text) => {
    const reply = await f.post(text, { authorization: token });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).errorType).toBe("BadRequestException");
  });

  it.each([
    ["a segment with an underscore", `/${INBOUND_NAMESPACE}/${SUB}_x`],
    ["a segment longer than 50 characters", `/${INBOUND_NAMESPACE}/${"a".repeat(51)}`],
    ["six segments", `/${INBOUND_NAMESPACE}/a/b/c/d/e`],
    ["an empty segment", `/${INBOUND_NAMESPACE}//${SUB}`],
    ["a wildcard", `/${INBOUND_NAMESPACE}/*`],
    ["an unknown namespace", `/Elsewhere/${SUB}`],
    ["a namespace in another case", `/inbound-messages/${SUB}`],
  ])("a channel with %s, with 400", async (_name, channel) => {
    const reply = await f.post(body(channel, one()), { authorization: token });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).errorType).toBe("BadRequestException");
  });

  it("accepts a channel without its leading slash", async () => {
    const reply = await f.post(body(IN.slice(1), one({ noSlash: true })), { authorization: token });
    expect(reply.status).toBe(200);
    expect(f.server.publishedTo(IN)).toContainEqual({ noSlash: true });
  });

  it("methods other than POST with 405", async () => {
    const reply = await f.post("", { authorization: token }, { method: "GET" });
    expect(reply.status).toBe(405);
    expect(errorOf(reply).errorType).toBe("BadRequestException");
  });

  it("other paths with 404", async () => {
    const reply = await f.post(body(IN, one()), { authorization: token }, { path: "/graphql" });
    expect(reply.status).toBe(404);
  });
});

describe("WebSocket refuses", () => {
  it("a connection with a bad token, with connection_error and a close", async () => {
    const bad = await RawEventsClient.connect(f.server.realtimeEndpoint, cognitoHeaders(f.server.httpEndpoint, "bad"));
    const error = await bad.nextOfType("connection_error");
    expect(error.errors).toEqual([expect.objectContaining({ errorType: "UnauthorizedException" })]);
    await bad.closed;
  });

  it("a connection without the auth header subprotocol", async () => {
    const bare = await RawEventsClient.connect(f.server.realtimeEndpoint, null);
    expect((await bare.nextOfType("connection_error")).errors).toEqual([
      expect.objectContaining({ errorType: "UnauthorizedException" }),
    ]);
    await bare.closed;
  });

  it("a handshake that does not offer aws-appsync-event-ws", async () => {
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(f.server.realtimeEndpoint, ["graphql-ws"]);
    ws.on("error", () => undefined); // terminating a refused handshake reports an error; it is expected here
    const status = await new Promise<number>((resolve) => ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(400);
    ws.terminate();
  });

  it("a subscription with a foreign auth mode (Cognito on an IAM-only namespace)", async () => {
    const { reply } = await client.subscribe(IN, cognitoHeaders(f.server.httpEndpoint, token));
    expect(reply).toMatchObject({ type: "subscribe_error", errors: [{ errorType: "UnauthorizedException" }] });
  });

  it("a subscription whose message carries no authorization", async () => {
    client.send({ type: "subscribe", id: "no-auth", channel: OUT });
    expect(await client.reply("no-auth")).toMatchObject({ type: "subscribe_error", errors: [{ errorType: "UnauthorizedException" }] });
  });

  it("a subscription whose IAM signature covers another channel", async () => {
    const authorization = await iamHeaders(f.server.httpEndpoint, JSON.stringify({ channel: `/${INBOUND_NAMESPACE}/*` }), IAM, REGION);
    const { reply } = await client.subscribe(IN, authorization);
    expect(reply).toMatchObject({ type: "subscribe_error", errors: [{ errorType: "UnauthorizedException" }] });
  });

  it.each([
    ["bad channel syntax", `/${OUTBOUND_NAMESPACE}/a b`],
    ["an unknown namespace", `/Nowhere/${SUB}`],
    ["a wildcard in the middle", `/${OUTBOUND_NAMESPACE}/*/x`],
  ])("a subscription to %s, with BadRequestException", async (_name, channel) => {
    const { reply } = await client.subscribe(channel, cognitoHeaders(f.server.httpEndpoint, token));
    expect(reply).toMatchObject({ type: "subscribe_error", errors: [{ errorType: "BadRequestException" }] });
  });

  it("a subscription id already in use", async () => {
    const auth = cognitoHeaders(f.server.httpEndpoint, token);
    expect((await client.subscribe(OUT, auth, "same-id")).reply.type).toBe("subscribe_success");
    expect((await client.subscribe(OUT, auth, "same-id")).reply).toMatchObject({
      type: "subscribe_error",
      errors: [{ errorType: "DuplicatedOperationError" }],
    });
  });

  it("a publish of six events, with publish_error", async () => {
    const reply = await client.publish(IN, [1, 2, 3, 4, 5, 6], cognitoHeaders(f.server.httpEndpoint, token));
    expect(reply).toMatchObject({ type: "publish_error", errors: [{ errorType: "BadRequestException" }] });
  });

  it("a publish with a foreign auth mode, with publish_error", async () => {
    const reply = await client.publish(OUT, [{ x: 1 }], cognitoHeaders(f.server.httpEndpoint, token));
    expect(reply).toMatchObject({ type: "publish_error", errors: [{ errorType: "UnauthorizedException" }] });
  });

  it("an unknown message type, with an error message", async () => {
    client.send({ type: "start", id: "gql" });
    expect(await client.reply("gql")).toMatchObject({ type: "error", errors: [{ errorType: "UnsupportedOperation" }] });
  });
});
