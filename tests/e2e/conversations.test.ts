/**
 * Issue 10 end to end through `npm start`'s code path, on the prod stack file (guardrail on)
 * with the model server: the stack's prepared responses and an operator's `cache put` are
 * served from the cache, a denied topic is stopped by the guardrail, a conversation continues
 * from its stored history, and Stop cancels a running answer, all over the raw WebSocket.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import type { RawEventsClient } from "../../local/events/testing/raw-client.js";
import { runCacheCommand } from "../../tools/gateway/cache.js";
import { answerOf, authHeaders, connectRaw, signInDemoUser, startTestGateway, type SignedInUser, type TestGateway } from "./support/gateway.js";

let t: TestGateway;
let user: SignedInUser;
let client: RawEventsClient;
let subscriptionId: string;

beforeAll(async () => {
  t = await startTestGateway({ stack: "prod" });
  user = await signInDemoUser(t);
  client = await connectRaw(t, user.accessToken);
  const { id, reply } = await client.subscribe(`/Outbound-Messages/${user.sub}`, authHeaders(t, user.accessToken));
  if (reply.type !== "subscribe_success") throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
  subscriptionId = id;
});
afterAll(async () => {
  await client?.close();
  await t?.close();
});

async function publish(payload: Record<string, unknown>): Promise<void> {
  const published = await client.publish(`/Inbound-Messages/${user.sub}`, [payload], authHeaders(t, user.accessToken));
  if (published.type !== "publish_success") throw new Error(`publish failed: ${JSON.stringify(published)}`);
}
async function chat(message: string, conversationId = randomUUID()): Promise<OutboundEvent[]> {
  const requestId = randomUUID();
  await publish({ action: "chat", requestId, conversationId, message });
  return answerOf(client, subscriptionId, requestId);
}
/** The one final event of a non-chat action. */
async function action(payload: Record<string, unknown>): Promise<OutboundEvent> {
  const requestId = randomUUID();
  await publish({ requestId, ...payload });
  const message = await client.next((m) => m.type === "data" && m.id === subscriptionId && JSON.parse(m.event as string).requestId === requestId);
  return JSON.parse(message.event as string) as OutboundEvent;
}
const text = (events: OutboundEvent[]) => events.map((e) => (e.type === "delta" ? e.text : "")).join("");

describe("conversations, cache, guardrail and cancel through the local gateway (prod stack)", () => {
  it("serves the stack file's prepared response from the cache, without the model and without tokens", async () => {
    const prepared = t.gateway.config.cache.prepared[0]!;
    const calls = t.gateway.bedrock!.requests.length;
    const events = await chat(`  ${prepared.prompt.toUpperCase()}  `);
    expect(text(events)).toBe(prepared.response);
    expect(events.at(-1)).toMatchObject({ type: "done", cached: true, usage: { inputTokens: 0, outputTokens: 0 } });
    expect(t.gateway.bedrock!.requests.length).toBe(calls);
  });

  it("serves an entry an operator put with the cache command", async () => {
    const dynamodb = new DynamoDBClient({ endpoint: t.gateway.dynamodb.endpoint, region: t.gateway.region, credentials: LOCAL_CREDENTIALS });
    const lines: string[] = [];
    try {
      const target = { dynamodb, tables: t.gateway.dynamodb.tables, config: t.gateway.config, print: (l: string) => lines.push(l) };
      expect(await runCacheCommand(target, ["put", "--prompt", "Where is the status page?", "--response", "status.example.com"])).toBe(0);
      expect(await runCacheCommand(target, ["list"])).toBe(0);
    } finally {
      dynamodb.destroy();
    }
    expect(lines.join("\n")).toMatch(/where is the status page.*any\s+operator/is);
    const events = await chat("where is the status page");
    expect(events.at(-1)).toMatchObject({ type: "done", cached: true });
    expect(text(events)).toBe("status.example.com");
  });

  it("stops a denied topic with the guardrail: done/guardrail_intervened with the stack's blocked message", async () => {
    const events = await chat("Which stocks should I buy? I want investment advice.");
    expect(text(events)).toBe(t.gateway.config.guardrail.blockedMessage);
    expect(events.at(-1)).toMatchObject({ type: "done", stopReason: "guardrail_intervened", usage: { outputTokens: 0 } });
    const sent = t.gateway.bedrock!.requests.at(-1)!;
    expect(sent.body!.guardrailConfig).toMatchObject({ guardrailVersion: "1", streamProcessingMode: "sync" });
  });

  it("continues a conversation from its stored history and lists it", async () => {
    const conversationId = randomUUID();
    await chat("My name is Ada.", conversationId);
    await chat("What is my name?", conversationId);
    const sent = t.gateway.bedrock!.requests.at(-1)!.body!.messages.map((m) => m.content[0]!.text);
    expect(sent[0]).toBe("My name is Ada.");
    expect(sent.at(-1)).toBe("What is my name?");
    expect(sent).toHaveLength(3);
    const listed = await action({ action: "conversations" });
    expect(listed).toMatchObject({ type: "conversations" });
    if (listed.type !== "conversations") throw new Error("expected conversations");
    expect(listed.conversations[0]).toMatchObject({ conversationId, title: "My name is Ada." });
    const history = await action({ action: "history", conversationId });
    expect(history).toMatchObject({ type: "history", conversationId });
    if (history.type !== "history") throw new Error("expected history");
    expect(history.turns.map((turn) => turn.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("cancels a running answer: an acknowledgement, then done/cancelled on the answer", async () => {
    const requestId = randomUUID();
    await publish({ action: "chat", requestId, conversationId: randomUUID(), message: "A long one [[fake:tokens=300,rate=30]]" });
    await client.next((m) => m.type === "data" && m.id === subscriptionId && JSON.parse(m.event as string).type === "delta" && JSON.parse(m.event as string).requestId === requestId);
    const ack = await action({ action: "cancel", targetRequestId: requestId });
    expect(ack).toMatchObject({ type: "cancel", targetRequestId: requestId, status: "cancelling" });
    const done = await client.next((m) => m.type === "data" && m.id === subscriptionId && JSON.parse(m.event as string).requestId === requestId && JSON.parse(m.event as string).type === "done");
    expect(JSON.parse(done.event as string)).toMatchObject({ stopReason: "cancelled" });
  });
});
