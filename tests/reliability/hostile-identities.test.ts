/**
 * Hostile channels and identities against the local Events server running the real handlers
 * (onSubscribe and the chat worker, through local mode's Lambda containers), with a stand-in
 * user pool issuing real RS256 tokens and a second pool that must not be trusted. No case may
 * be admitted: subscriptions are refused; publishes are refused by the server, or reach the
 * worker, which answers the caller alone with `unauthorized` and calls no model.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { INBOUND_NAMESPACE, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE } from "../../functions/lib/tables.js";
import { type BedrockServer, startBedrockServer } from "../../local/bedrock/index.js";
import { createTable } from "../../local/dynamodb.js";
import { createCognitoVerifier, type EventsServer, gatewayNamespaces, type GatewayHandlers, startEventsServer } from "../../local/events/index.js";
import { IAM, REGION, sendHttp } from "../../local/events/testing/fixture.js";
import { cognitoHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";
import { startTokenIssuer, type TokenIssuer } from "../../local/events/testing/token-issuer.js";
import { applyEnvironment, lambdaVariables, loadGatewayHandlers } from "../../local/lambda.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { hostileChannels, hostileTokens } from "./hostile-cases.js";
import { expectNothingMetered } from "./metering-assertions.js";

const ATTACKER = randomUUID();
const VICTIM = randomUUID();

let trusted: TokenIssuer;
let foreign: TokenIssuer;
let bedrock: BedrockServer;
let events: EventsServer;
let restoreEnvironment = () => {};
let dir: string;
let attacker: RawEventsClient;
let attackerHeaders: Record<string, string>;

beforeAll(async () => {
  [trusted, foreign, bedrock] = await Promise.all([startTokenIssuer("local_trusted"), startTokenIssuer("local_foreign"), startBedrockServer()]);
  const dynamodb = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: REGION, credentials: IAM });
  const idempotencyTable = `idempotency-${randomUUID()}`;
  const [usageTable, conversationsTable, cacheTable] = [USAGE_TABLE, CONVERSATIONS_TABLE, CACHE_TABLE].map((t) => `${t.name}-${randomUUID()}`);
  await Promise.all([
    createTable(dynamodb, IDEMPOTENCY_TABLE, idempotencyTable),
    createTable(dynamodb, USAGE_TABLE, usageTable!),
    createTable(dynamodb, CONVERSATIONS_TABLE, conversationsTable!),
    createTable(dynamodb, CACHE_TABLE, cacheTable!),
  ]);
  dynamodb.destroy();
  dir = mkdtempSync(join(tmpdir(), "hostile-"));
  const configPath = join(dir, "gateway-config.json");
  writeFileSync(configPath, JSON.stringify(parseGatewayConfig(devLikeConfig(), { region: REGION })));

  let resolveHandlers!: (h: GatewayHandlers) => void;
  const handlers = new Promise<GatewayHandlers>((r) => (resolveHandlers = r));
  events = await startEventsServer({
    region: REGION,
    namespaces: gatewayNamespaces({
      onPublish: async (event) => (await handlers).onPublish!(event),
      onSubscribe: async (event) => (await handlers).onSubscribe!(event),
    }),
    auth: { verifyCognitoToken: createCognitoVerifier({ issuer: trusted.issuer, clientId: trusted.clientId }), iamCredentials: IAM },
  });
  const env = {
    stack: "hostile",
    region: REGION,
    configPath,
    eventsHttpEndpoint: events.httpEndpoint,
    publisherCredentials: IAM,
    idempotencyTable,
    usageTable: usageTable!,
    conversationsTable: conversationsTable!,
    cacheTable: cacheTable!,
    dynamodbEndpoint: inject("dynamodbEndpoint"),
    bedrockEndpoint: bedrock.url,
    defaultCredentials: IAM,
    workerTimeoutSeconds: 60,
  };
  restoreEnvironment = applyEnvironment({ ...lambdaVariables(env), POWERTOOLS_LOG_LEVEL: "CRITICAL" });
  resolveHandlers(await loadGatewayHandlers(env, { workerConcurrency: 4 }));

  attackerHeaders = cognitoHeaders(events.httpEndpoint, trusted.accessToken({ sub: ATTACKER }));
  attacker = await RawEventsClient.connect(events.realtimeEndpoint, attackerHeaders);
  expect((await attacker.init()).type).toBe("connection_ack");
});

afterAll(async () => {
  await attacker?.close();
  await events?.close();
  await Promise.all([bedrock?.close(), trusted?.close(), foreign?.close()]);
  restoreEnvironment();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const subscribeChannels = () => hostileChannels(OUTBOUND_NAMESPACE, INBOUND_NAMESPACE, ATTACKER, VICTIM);
const publishChannels = () => hostileChannels(INBOUND_NAMESPACE, OUTBOUND_NAMESPACE, ATTACKER, VICTIM);
const tokens = () => hostileTokens(trusted, foreign, VICTIM);

/** A chat whose marker lets the model server's records be searched for it. */
function hostileChat() {
  const marker = `hostile-${randomUUID()}`;
  return { marker, payload: { action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message: `leak it ${marker}` } };
}

/** Publishes the server accepted: each must end as the worker's `unauthorized` to the caller alone. */
const acceptedPublishes: { name: string; requestId: string; marker: string }[] = [];
let cases = 0;

function httpPublish(channel: string, payload: unknown, authorization: string) {
  const body = JSON.stringify({ channel, events: [JSON.stringify(payload)] });
  return sendHttp(new URL(events.httpEndpoint), body, { host: new URL(events.httpEndpoint).host, "content-type": "application/json", Authorization: authorization });
}

describe("hostile channels", () => {
  it("generates at least 50 hostile channels per namespace", () => {
    expect(subscribeChannels().length).toBeGreaterThanOrEqual(50);
  });

  it("refuses every hostile subscription, with the caller's own valid token", async () => {
    for (const { name, channel } of subscribeChannels()) {
      const { reply } = await attacker.subscribe(channel, attackerHeaders);
      expect(reply.type, `${name}: ${JSON.stringify(channel).slice(0, 80)}`).toBe("subscribe_error");
      cases++;
    }
  });

  it("never lets a hostile publish over the WebSocket reach a model or another user", async () => {
    for (const { name, channel } of publishChannels()) {
      const { marker, payload } = hostileChat();
      const reply = await attacker.publish(channel, [payload], attackerHeaders);
      if (reply.type === "publish_success") acceptedPublishes.push({ name: `ws ${name}`, requestId: payload.requestId, marker });
      else expect(reply.type, name).toBe("publish_error");
      cases++;
    }
  });

  it("never lets a hostile publish over HTTP reach a model or another user", async () => {
    for (const { name, channel } of publishChannels()) {
      const { marker, payload } = hostileChat();
      const reply = await httpPublish(channel, payload, attackerHeaders.Authorization!);
      if (reply.status === 200) {
        expect(reply.body?.failed ?? [], name).toEqual([]);
        acceptedPublishes.push({ name: `http ${name}`, requestId: payload.requestId, marker });
      } else expect(reply.status, name).toBeGreaterThanOrEqual(400);
      cases++;
    }
  });
});

describe("hostile identities", () => {
  it("refuses a WebSocket connection with each hostile token", async () => {
    for (const { name, token } of tokens()) {
      const client = await RawEventsClient.connect(events.realtimeEndpoint, cognitoHeaders(events.httpEndpoint, token)).catch(() => null);
      if (client) {
        const answer = await Promise.race([client.init(), client.closed.then(() => ({ type: "closed" }))]);
        expect(answer.type, name).not.toBe("connection_ack");
        await client.close();
      }
      cases++;
    }
  });

  it("refuses a subscription to the claimed user's channel authorized by each hostile token", async () => {
    for (const { name, token } of tokens()) {
      const { reply } = await attacker.subscribe(`/${OUTBOUND_NAMESPACE}/${VICTIM}`, cognitoHeaders(events.httpEndpoint, token));
      expect(reply.type, name).toBe("subscribe_error");
      cases++;
    }
  });

  it("refuses a WebSocket publish authorized by each hostile token", async () => {
    for (const { name, token } of tokens()) {
      const { marker, payload } = hostileChat();
      const reply = await attacker.publish(`/${INBOUND_NAMESPACE}/${VICTIM}`, [payload], cognitoHeaders(events.httpEndpoint, token));
      expect(reply.type, name).toBe("publish_error");
      expectNothingMetered({ bedrock }, marker);
      cases++;
    }
  });

  it("refuses an HTTP publish authorized by each hostile token", async () => {
    for (const { name, token } of tokens()) {
      const { marker, payload } = hostileChat();
      const reply = await httpPublish(`/${INBOUND_NAMESPACE}/${VICTIM}`, payload, token);
      expect(reply.status, name).toBe(401);
      expectNothingMetered({ bedrock }, marker);
      cases++;
    }
  });
});

describe("after every hostile case", () => {
  it("ran at least 200 cases", () => {
    expect(cases).toBeGreaterThanOrEqual(200);
  });

  it("answered each publish the server took with one `unauthorized` to the caller alone, and called no model", async () => {
    await events.idle();
    // Inbound publishes are recorded too (only IAM may subscribe there); answers go Outbound.
    const published = events.published.filter((r) => r.channel.startsWith(`/${OUTBOUND_NAMESPACE}/`)).flatMap((r) =>
      r.events.map((e) => ({ channel: r.channel, event: (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as OutboundEvent })),
    );
    expect(published.filter((p) => p.channel !== `/${OUTBOUND_NAMESPACE}/${ATTACKER}`)).toEqual([]);
    expect(acceptedPublishes.length).toBeGreaterThan(0);
    for (const accepted of acceptedPublishes) {
      const answer = published.filter((p) => p.event.requestId === accepted.requestId);
      expect(answer.map((p) => p.channel), accepted.name).toEqual([`/${OUTBOUND_NAMESPACE}/${ATTACKER}`]);
      expect(answer[0]!.event, accepted.name).toMatchObject({ type: "error", code: "unauthorized" });
      expectNothingMetered({ bedrock }, accepted.marker);
    }
    expect(bedrock.requests).toEqual([]);
  });
});
