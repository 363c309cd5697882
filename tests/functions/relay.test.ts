import { describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { PublishError, type Publisher } from "../../functions/lib/relay/publisher.js";
import { ResponseRelay } from "../../functions/lib/relay/relay.js";

/** Records publishes; optionally slow or failing, to exercise ordering and failure handling. */
class RecordingPublisher implements Publisher {
  calls: { channel: string; events: OutboundEvent[] }[] = [];
  constructor(private readonly behaviour: { delayMs?: number; failFrom?: number } = {}) {}
  async publish(channel: string, events: readonly OutboundEvent[]) {
    if (this.behaviour.delayMs) await new Promise((r) => setTimeout(r, this.behaviour.delayMs));
    if (this.behaviour.failFrom !== undefined && this.calls.length >= this.behaviour.failFrom) throw new PublishError("refused", 403);
    this.calls.push({ channel, events: events.map((e) => ({ ...e })) });
  }
  get events() {
    return this.calls.flatMap((c) => c.events);
  }
}

const CONV = "c0ffee00-0000-4000-8000-000000000000";

describe("response relay", () => {
  it("numbers events from 0 and keeps them in order across publishes", async () => {
    const publisher = new RecordingPublisher({ delayMs: 5 });
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 20 });
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    for (const word of ["Hello ", "there, ", "friend."]) relay.delta(CONV, word);
    relay.send({ type: "done", conversationId: CONV, stopReason: "end_turn", cached: false, usage: { inputTokens: 1, outputTokens: 3 }, latencyMs: { firstToken: 1, total: 2 } });
    expect(await relay.closed()).toBeUndefined();
    const events = publisher.events;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type)).toEqual(["start", "delta", "delta", "done"]);
    expect(events.filter((e) => e.type === "delta").map((e) => (e as { text: string }).text).join("")).toBe("Hello there, friend.");
    expect(events.every((e) => e.requestId === "r1")).toBe(true);
    expect(new Set(publisher.calls.map((c) => c.channel))).toEqual(new Set(["/Outbound-Messages/u1"]));
  });

  it("sends the first delta at once and coalesces the following ones within the flush interval", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 10_000 });
    relay.delta(CONV, "first ");
    await new Promise((r) => setTimeout(r, 20));
    expect(publisher.events.map((e) => (e as { text: string }).text)).toEqual(["first "]);
    for (let i = 0; i < 50; i++) relay.delta(CONV, `w${i} `);
    await new Promise((r) => setTimeout(r, 20));
    expect(publisher.calls).toHaveLength(1); // still waiting for the interval
    await relay.closed();
    expect(publisher.calls).toHaveLength(2);
    expect(publisher.calls[1]!.events).toHaveLength(1);
    expect((publisher.calls[1]!.events[0] as { text: string }).text.split(" ").filter(Boolean)).toHaveLength(50);
  });

  it("packs at most five events into one publish", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 10_000 });
    for (let i = 0; i < 12; i++) relay.send({ type: "quota", quota: { tier: "default" } as never });
    await relay.closed();
    expect(publisher.calls.map((c) => c.events.length).every((n) => n <= 5)).toBe(true);
    expect(publisher.events).toHaveLength(12);
  });

  it("marks itself failed when a publish fails, and stops publishing", async () => {
    const publisher = new RecordingPublisher({ failFrom: 1 });
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 1 });
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    await new Promise((r) => setTimeout(r, 10));
    relay.delta(CONV, "lost");
    const failure = await relay.closed();
    expect(failure).toBeInstanceOf(PublishError);
    expect(relay.failed).toBe(true);
    expect(publisher.events.map((e) => e.type)).toEqual(["start"]);
  });
});
