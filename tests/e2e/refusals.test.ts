import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { CreateUserPoolClientCommand, InitiateAuthCommand } from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendHttp } from "../../local/events/testing/fixture.js";
import { RawEventsClient } from "../../local/events/testing/raw-client.js";
import {
  answerOf,
  authHeaders,
  chatPayload,
  claimsOf,
  cognitoClient,
  connectRaw,
  type SignedInUser,
  signInDemoUser,
  startTestGateway,
  type TestGateway,
} from "./support/gateway.js";

let t: TestGateway;
let alice: SignedInUser;
let bob: SignedInUser;
let aliceClient: RawEventsClient;

beforeAll(async () => {
  t = await startTestGateway();
  alice = await signInDemoUser(t, "default");
  bob = await signInDemoUser(t, "pro");
  aliceClient = await connectRaw(t, alice.accessToken);
});

afterAll(async () => {
  await aliceClient?.close();
  await t?.close();
});

const aliceHeaders = () => authHeaders(t, alice.accessToken);

/** cognito-local signs every pool's tokens with one published key: a valid signature on chosen claims. */
function tokenSignedByCognitoLocal(claims: Record<string, unknown>): string {
  const require = createRequire(import.meta.url);
  const { jwk } = JSON.parse(readFileSync(require.resolve("cognito-local/lib/keys/cognitoLocal.private.json"), "utf8"));
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg: "RS256", typ: "JWT", kid: "CognitoLocal" })}.${encode(claims)}`;
  return `${input}.${sign("RSA-SHA256", Buffer.from(input), createPrivateKey({ key: jwk, format: "jwk" })).toString("base64url")}`;
}

function expiredToken(user: SignedInUser): string {
  const now = Math.floor(Date.now() / 1000);
  return tokenSignedByCognitoLocal({ ...claimsOf(user.accessToken), iat: now - 7200, auth_time: now - 7200, exp: now - 3600 });
}

/** Alice's token claiming to be Bob: the payload changed, the signature kept. */
function tamperedToken(): string {
  const [header, , signature] = alice.accessToken.split(".");
  const payload = Buffer.from(JSON.stringify({ ...claimsOf(alice.accessToken), sub: bob.sub })).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

async function subscribeReply(channel: string) {
  return (await aliceClient.subscribe(channel, aliceHeaders())).reply;
}

const unauthorized = { type: "subscribe_error", errors: [expect.objectContaining({ errorType: "UnauthorizedException" })] };

describe("subscriptions the gateway refuses", () => {
  it("refuses a subscription to another user's outbound channel", async () => {
    expect(await subscribeReply(`/Outbound-Messages/${bob.sub}`)).toMatchObject(unauthorized);
  });

  it("refuses wildcard subscriptions on the outbound namespace", async () => {
    expect(await subscribeReply("/Outbound-Messages/*")).toMatchObject(unauthorized);
    expect(await subscribeReply(`/Outbound-Messages/${alice.sub}/*`)).toMatchObject(unauthorized);
  });

  it("refuses the caller's own channel with extra segments or in another case", async () => {
    expect(await subscribeReply(`/Outbound-Messages/${alice.sub}/extra`)).toMatchObject(unauthorized);
    expect(await subscribeReply(`/Outbound-Messages/${alice.sub.toUpperCase()}`)).toMatchObject(unauthorized);
  });

  it("refuses a user subscribing to an inbound channel, which only IAM may read", async () => {
    expect(await subscribeReply(`/Inbound-Messages/${alice.sub}`)).toMatchObject(unauthorized);
  });

  it("refuses an unknown namespace", async () => {
    const reply = await subscribeReply(`/Unknown-Namespace/${alice.sub}`);
    expect(reply.type).toBe("subscribe_error");
    const published = await aliceClient.publish(`/Unknown-Namespace/${alice.sub}`, [{ hello: 1 }], aliceHeaders());
    expect(published.type).toBe("publish_error");
  });

  it("still grants the caller's own outbound channel on the same connection", async () => {
    expect(await subscribeReply(`/Outbound-Messages/${alice.sub}`)).toMatchObject({ type: "subscribe_success" });
  });
});

describe("tokens the gateway refuses", () => {
  const connectionRefused = { type: "connection_error", errors: [expect.objectContaining({ errorType: "UnauthorizedException" })] };

  async function connectionReply(headers: Record<string, string> | null) {
    const client = await RawEventsClient.connect(t.gateway.endpoints.events.realtimeEndpoint, headers, { ca: t.ca });
    try {
      return await client.init();
    } finally {
      await client.close();
    }
  }

  async function postStatus(headers: Record<string, string>) {
    const body = JSON.stringify({ channel: `/Inbound-Messages/${alice.sub}`, events: [JSON.stringify(chatPayload("hi"))] });
    return sendHttp(new URL(t.gateway.endpoints.events.httpEndpoint), body, { "content-type": "application/json", ...headers }, { ca: t.ca });
  }

  it("refuses a WebSocket connection and an HTTP publish without a token", async () => {
    expect(await connectionReply(null)).toMatchObject(connectionRefused);
    expect(await postStatus({})).toMatchObject({ status: 401, body: { errors: [{ errorType: "UnauthorizedException" }] } });
  });

  it("refuses an expired token even though cognito-local's key signed it", async () => {
    const token = expiredToken(alice);
    expect(await connectionReply(authHeaders(t, token))).toMatchObject(connectionRefused);
    expect((await postStatus({ Authorization: token })).status).toBe(401);
    expect(await aliceClient.subscribe(`/Outbound-Messages/${alice.sub}`, authHeaders(t, token))).toMatchObject({
      reply: unauthorized,
    });
  });

  it("refuses a token of the same pool issued to another app client", async () => {
    const { UserPoolClient } = await cognitoClient(t).send(
      new CreateUserPoolClientCommand({ UserPoolId: t.endpoints.cognito.userPoolId, ClientName: "other-app", ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH"] }),
    );
    const demo = t.endpoints.users[0]!;
    const { AuthenticationResult } = await cognitoClient(t).send(
      new InitiateAuthCommand({
        ClientId: UserPoolClient!.ClientId!,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: demo.username, PASSWORD: demo.password },
      }),
    );
    for (const token of [AuthenticationResult!.AccessToken!, AuthenticationResult!.IdToken!]) {
      expect(await connectionReply(authHeaders(t, token))).toMatchObject(connectionRefused);
    }
  });

  it("refuses a validly signed token that is neither an id nor an access token", async () => {
    const token = tokenSignedByCognitoLocal({ ...claimsOf(alice.accessToken), token_use: "refresh" });
    expect(await connectionReply(authHeaders(t, token))).toMatchObject(connectionRefused);
  });

  it("refuses a token whose claims were changed after signing", async () => {
    const token = tamperedToken();
    expect(await connectionReply(authHeaders(t, token))).toMatchObject(connectionRefused);
    expect((await postStatus({ Authorization: token })).status).toBe(401);
    expect(await aliceClient.subscribe(`/Outbound-Messages/${bob.sub}`, authHeaders(t, token))).toMatchObject({
      reply: unauthorized,
    });
  });
});

describe("publishes the gateway refuses", () => {
  it("answers a publish to another user's inbound channel with an error event on the publisher's own channel", async () => {
    const { id } = await aliceClient.subscribe(`/Outbound-Messages/${alice.sub}`, aliceHeaders());
    const payload = chatPayload("Let me speak for Bob");
    // Publishing is allowed to any user-pool caller, as on AppSync; the worker refuses it.
    expect(await aliceClient.publish(`/Inbound-Messages/${bob.sub}`, [payload], aliceHeaders())).toMatchObject({
      type: "publish_success",
    });
    const answer = await answerOf(aliceClient, id, payload.requestId);
    expect(answer).toEqual([expect.objectContaining({ type: "error", code: "unauthorized", requestId: payload.requestId, seq: 0 })]);
    await t.gateway.events.idle();
    const toBob = t.gateway.events.publishedTo(`/Outbound-Messages/${bob.sub}`) as { requestId?: string }[];
    expect(toBob.filter((event) => event.requestId === payload.requestId)).toEqual([]);
    expect(t.gateway.bedrock!.requests.some((r) => r.rawBody.includes("Let me speak for Bob"))).toBe(false);
  });

  it("refuses a user publishing on an outbound channel, which only the gateway (IAM) may write", async () => {
    const forged = { type: "delta", requestId: "forged", seq: 0, text: "not from the model" };
    const reply = await aliceClient.publish(`/Outbound-Messages/${bob.sub}`, [forged], aliceHeaders());
    expect(reply).toMatchObject({ type: "publish_error", errors: [{ errorType: "UnauthorizedException" }] });
  });

  it("refuses an event over 240 KB", async () => {
    const reply = await aliceClient.publish(`/Inbound-Messages/${alice.sub}`, [chatPayload("x".repeat(241 * 1024))], aliceHeaders());
    expect(reply).toMatchObject({ type: "publish_error", errors: [{ errorType: "BadRequestException" }] });
  });

  it("refuses more than 5 events in one publish", async () => {
    const events = Array.from({ length: 6 }, (_, i) => chatPayload(`message ${i}`));
    const reply = await aliceClient.publish(`/Inbound-Messages/${alice.sub}`, events, aliceHeaders());
    expect(reply).toMatchObject({ type: "publish_error", errors: [{ errorType: "BadRequestException" }] });
  });
});
