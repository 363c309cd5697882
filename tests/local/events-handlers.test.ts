import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCognitoVerifier } from "../../local/events/cognito-auth.js";
import type { HandlerFailure } from "../../local/events/broker.js";
import type { HandlerEvent } from "../../local/events/namespaces.js";
import { type EventsServer, startEventsServer } from "../../local/events/server.js";
import { IAM, REGION, sendHttp } from "../../local/events/testing/fixture.js";
import { cognitoHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";
import { startTokenIssuer, type TokenIssuer } from "../../local/events/testing/token-issuer.js";

// Namespaces configured the other ways AppSync allows, beyond what the gateway's contract uses.
const USER_POOL = ["AMAZON_COGNITO_USER_POOLS"] as const;

let issuer: TokenIssuer;
let server: EventsServer;
let token: string;
const failures: HandlerFailure[] = [];
const eventModeCalls: HandlerEvent[] = [];

beforeAll(async () => {
  issuer = await startTokenIssuer();
  token = issuer.accessToken({ sub: "user-1" });
  server = await startEventsServer({
    region: REGION,
    auth: { verifyCognitoToken: createCognitoVerifier({ issuer: issuer.issuer, clientId: issuer.clientId }), iamCredentials: IAM },
    onHandlerError: (failure) => failures.push(failure),
    namespaces: [
      {
        name: "filtered",
        publishAuthModes: USER_POOL,
        subscribeAuthModes: USER_POOL,
        invokeTypes: { onPublish: "REQUEST_RESPONSE" },
        // Uppercases text, refuses events marked bad, drops events marked silent.
        onPublish: (event) => ({
          events: event
            .events!.filter((e) => !(e.payload as { silent?: boolean }).silent)
            .map((e) => {
              const payload = e.payload as { text: string; bad?: boolean };
              return payload.bad ? { id: e.id, error: "Refused by the handler." } : { id: e.id, payload: { text: payload.text.toUpperCase() } };
            }),
        }),
      },
      {
        name: "closed",
        publishAuthModes: USER_POOL,
        subscribeAuthModes: USER_POOL,
        invokeTypes: { onPublish: "REQUEST_RESPONSE" },
        onPublish: () => ({ error: "This channel is closed." }),
      },
      {
        name: "async",
        publishAuthModes: USER_POOL,
        subscribeAuthModes: USER_POOL,
        invokeTypes: { onPublish: "EVENT", onSubscribe: "EVENT" },
        onPublish: () => {
          throw new Error("worker crashed");
        },
        onSubscribe: (event) => {
          eventModeCalls.push(event);
          return { error: "ignored in EVENT mode" };
        },
      },
    ],
  });
});

afterAll(async () => {
  await server?.close();
  await issuer?.close();
});

const publish = (channel: string, events: unknown[]) =>
  sendHttp(new URL(server.httpEndpoint), JSON.stringify({ channel, events: events.map((e) => JSON.stringify(e)) }), {
    authorization: token,
  });

describe("REQUEST_RESPONSE onPublish", () => {
  it("broadcasts what the handler returns, fails the events it marks with an error, and drops the ones it omits", async () => {
    const client = await RawEventsClient.connect(server.realtimeEndpoint, cognitoHeaders(server.httpEndpoint, token));
    try {
      await client.init();
      const { id } = await client.subscribe("/filtered/room", cognitoHeaders(server.httpEndpoint, token));
      const reply = await publish("/filtered/room", [{ text: "a" }, { text: "b", bad: true }, { text: "c", silent: true }, { text: "d" }]);
      expect(reply.status).toBe(200);
      expect(reply.body.successful.map((s: { index: number }) => s.index)).toEqual([0, 2, 3]);
      expect(reply.body.failed).toEqual([
        { identifier: expect.any(String), index: 1, code: "HandlerError", message: "Refused by the handler." },
      ]);
      expect(await client.nextEvent(id)).toEqual({ text: "A" });
      expect(await client.nextEvent(id)).toEqual({ text: "D" });
    } finally {
      await client.close();
    }
  });

  it("fails the whole publish when the handler returns a top-level error", async () => {
    const reply = await publish("/closed/room", [{ text: "x" }]);
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ errorType: "BadRequestException", message: "This channel is closed." }]);
  });
});

describe("EVENT mode handlers", () => {
  it("acknowledge a publish even when the handler later throws, and report the failure without telling the caller", async () => {
    const reply = await publish("/async/room", [{ text: "x" }]);
    expect(reply.status).toBe(200);
    expect(reply.body.successful).toHaveLength(1);
    await server.idle();
    expect(failures).toEqual([expect.objectContaining({ namespace: "async", operation: "PUBLISH", channel: "/async/room" })]);
  });

  it("let a subscription through whatever an EVENT-mode onSubscribe returns", async () => {
    const client = await RawEventsClient.connect(server.realtimeEndpoint, cognitoHeaders(server.httpEndpoint, token));
    try {
      await client.init();
      const { reply } = await client.subscribe("/async/room", cognitoHeaders(server.httpEndpoint, token));
      expect(reply.type).toBe("subscribe_success");
      await server.idle();
      expect(eventModeCalls.map((e) => e.info.operation)).toEqual(["SUBSCRIBE"]);
    } finally {
      await client.close();
    }
  });
});
