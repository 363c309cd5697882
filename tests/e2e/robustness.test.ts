import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { assertPortFree } from "../../local/ports.js";
import {
  authHeaders,
  chatOnce,
  chatPayload,
  connectRaw,
  createUser,
  descendantPids,
  isRunning,
  type SignedInUser,
  signInDemoUser,
  startTestGateway,
  type TestGateway,
} from "./support/gateway.js";

const CONCURRENT_USERS = 100;

let t: TestGateway;
let childrenBefore: Set<number>;

beforeAll(async () => {
  childrenBefore = new Set(await descendantPids(process.pid));
  t = await startTestGateway();
});

afterAll(async () => {
  await t?.close();
});

/** Runs `task` over `items`, at most `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The server notices a closed socket a moment after the client does; wait for it, generously. */
const connectionsDrainTo = (count: number) =>
  vi.waitFor(() => expect(t.gateway.events.connectionCount()).toBe(count), { timeout: 15_000, interval: 20 });

describe("a gateway under stress keeps serving", () => {
  it("finishes the answer of a client that disconnects mid-answer, and serves the next client", async () => {
    const user = await signInDemoUser(t, "pro");
    const headers = authHeaders(t, user.accessToken);
    const outbound = `/Outbound-Messages/${user.sub}`;
    const connectionsBefore = t.gateway.events.connectionCount();
    const client = await connectRaw(t, user.accessToken);
    const { id } = await client.subscribe(outbound, headers);
    const payload = chatPayload("Tell me a long story [[fake:tokens=2000,rate=1000]]");
    await client.publish(`/Inbound-Messages/${user.sub}`, [payload], headers);
    await client.next((m) => m.type === "data" && m.id === id && JSON.parse(m.event as string).type === "delta");

    client.ws.terminate();
    await client.closed;
    const publishesAtDisconnect = t.gateway.events.published.length;

    // Like AppSync, the worker streams on to a channel nobody listens to, and finishes cleanly.
    const done = await t.gateway.events.waitForPublished(
      (record) =>
        record.channel === outbound &&
        record.events.some((e) => (e.payload as OutboundEvent).requestId === payload.requestId && (e.payload as OutboundEvent).type === "done"),
    );
    expect(t.gateway.events.published.indexOf(done)).toBeGreaterThanOrEqual(publishesAtDisconnect);
    const finished = done.events.map((e) => e.payload as OutboundEvent).find((e) => e.type === "done");
    expect(finished).toMatchObject({ stopReason: "end_turn", usage: { outputTokens: 2000 } });
    await connectionsDrainTo(connectionsBefore);

    const next = await chatOnce(t, user, "Still there? [[fake:tokens=3]]");
    expect(next.map((e) => e.type).join(" ")).toMatch(/^start (delta )+done$/);
  });

  it(`answers ${CONCURRENT_USERS} users chatting at once, each on their own channel only`, async () => {
    const users = await inBatches(
      Array.from({ length: CONCURRENT_USERS }, (_, i) => `load-${i}@example.com`),
      10,
      (username) => createUser(t, username),
    );
    expect(new Set(users.map((u) => u.sub)).size).toBe(CONCURRENT_USERS);

    const answers = await Promise.all(users.map((user: SignedInUser, i) => chatOnce(t, user, `Question ${i} [[fake:tokens=${5 + (i % 7)}]]`)));

    answers.forEach((events, i) => {
      expect(events.map((e) => e.type).join(" ")).toMatch(/^start (delta )+done$/);
      expect(new Set(events.map((e) => e.requestId)).size).toBe(1);
      expect(events.at(-1)).toMatchObject({ usage: { outputTokens: 5 + (i % 7) } });
    });
    // Each worker published only to its caller's channel.
    users.forEach((user, i) => {
      const onChannel = t.gateway.events.publishedTo(`/Outbound-Messages/${user.sub}`) as OutboundEvent[];
      expect(new Set(onChannel.map((e) => e.requestId))).toEqual(new Set([answers[i]![0]!.requestId]));
    });
    await connectionsDrainTo(0);

    const after = await chatOnce(t, await signInDemoUser(t, "default"), "And now? [[fake:tokens=2]]");
    expect(after.at(-1)!.type).toBe("done");
  });

  it("stop() ends every child process it started and frees every port", async () => {
    const started = (await descendantPids(process.pid)).filter((pid) => !childrenBefore.has(pid));
    const expected = t.gateway.processes.map((p) => p.pid);
    expect(started).toEqual(expect.arrayContaining(expected));
    const ports = [
      new URL(t.gateway.endpoints.events.httpEndpoint).port,
      new URL(t.gateway.endpoints.cognito.endpoint).port,
      new URL(t.gateway.dynamodb.endpoint).port,
      new URL(t.gateway.bedrock!.url).port,
    ].map(Number);

    await t.gateway.stop();

    expect(started.filter(isRunning)).toEqual([]);
    const remaining = (await descendantPids(process.pid)).filter((pid) => !childrenBefore.has(pid));
    expect(remaining).toEqual([]);
    for (const port of ports) await expect(assertPortFree(port, "after stop")).resolves.toBeUndefined();
  });
});
