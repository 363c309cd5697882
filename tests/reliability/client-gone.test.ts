/**
 * A client that goes away mid-answer, through the whole local gateway (`npm start`'s code on
 * free ports): a raw AppSync Events WebSocket client drops its connection after the first
 * delta. Like AppSync, nothing tells the worker: the turn still ends, is charged what the
 * model reported, and leaves no reservation, run record, connection or model stream behind.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runKey } from "../../functions/lib/cancel/runs.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { CONVERSATIONS_TABLE, USAGE_TABLE } from "../../functions/lib/tables.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { authHeaders, chatOnce, chatPayload, connectRaw, createUser, startTestGateway, type TestGateway } from "../e2e/support/gateway.js";
import { expectSettled } from "./metering-assertions.js";

let t: TestGateway;
let dynamodb: DynamoDBClient;

beforeAll(async () => {
  t = await startTestGateway({ web: false });
  dynamodb = new DynamoDBClient({ endpoint: t.gateway.dynamodb.endpoint, region: t.gateway.region, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  dynamodb?.destroy();
  await t?.close();
});

const usageTable = () => ({ dynamodb, usageTable: t.gateway.dynamodb.tables[USAGE_TABLE.name]! });

describe("a client that disconnects mid-answer", () => {
  it("does not stop the turn: it ends, is charged what the model reported, and leaves nothing behind", async () => {
    const user = await createUser(t, "gone-mid-answer@example.com");
    const headers = authHeaders(t, user.accessToken);
    const outbound = `/Outbound-Messages/${user.sub}`;
    const connectionsBefore = t.gateway.events.connectionCount();
    const modelCallsBefore = t.gateway.bedrock!.requests.length;

    const client = await connectRaw(t, user.accessToken);
    const { id } = await client.subscribe(outbound, headers);
    const payload = chatPayload("Tell me a long story [[fake:tokens=1500,rate=1000]]");
    await client.publish(`/Inbound-Messages/${user.sub}`, [payload], headers);
    await client.next((m) => m.type === "data" && m.id === id && JSON.parse(m.event as string).type === "delta");
    // Gone without a goodbye: no unsubscribe, no close frame.
    client.ws.terminate();
    await client.closed;

    const ofThisRequest = (e: unknown) => (e as OutboundEvent).requestId === payload.requestId;
    const done = await t.gateway.events.waitForPublished((r) => r.channel === outbound && r.events.some((e) => ofThisRequest(e.payload) && (e.payload as OutboundEvent).type === "done"));
    await t.gateway.events.idle();
    await t.gateway.bedrock!.idle();

    const model = t.gateway.bedrock!.requests.slice(modelCallsBefore);
    expect(model).toHaveLength(1);
    expect(model[0]).toMatchObject({ outcome: "end_turn", deltasSent: 1500 });
    const final = done.events.map((e) => e.payload as OutboundEvent).find((e) => ofThisRequest(e) && e.type === "done");
    expect(final).toMatchObject({ stopReason: "end_turn", usage: model[0]!.usage });
    // Exactly one outcome for the request on its channel, whoever was (not) listening.
    const finals = (t.gateway.events.publishedTo(outbound) as OutboundEvent[]).filter((e) => ofThisRequest(e) && (e.type === "done" || e.type === "error"));
    expect(finals).toHaveLength(1);

    await expectSettled(usageTable(), user.sub, model[0]!.usage!);
    // The run record that lets a cancel find the answer went with it.
    const run = await DynamoDBDocumentClient.from(dynamodb).send(
      new GetCommand({
        TableName: t.gateway.dynamodb.tables[CONVERSATIONS_TABLE.name]!,
        Key: { [CONVERSATIONS_TABLE.partitionKey]: user.sub, [CONVERSATIONS_TABLE.sortKey!]: runKey(payload.requestId) },
        ConsistentRead: true,
      }),
    );
    expect(run.Item).toBeUndefined();
    await vi.waitFor(() => expect(t.gateway.events.connectionCount()).toBe(connectionsBefore), { timeout: 15_000, interval: 20 });

    // The same user comes back and is served, with the earlier turn in their quota.
    const next = await chatOnce(t, user, "I am back [[fake:tokens=4]]");
    expect(next.at(-1)).toMatchObject({ type: "done", quota: { daily: { outputTokens: { used: 1500 + 4 } } } });
  });
});
