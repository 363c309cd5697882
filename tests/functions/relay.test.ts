import { describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { MAX_EVENTS_PER_PUBLISH, PublishError, type Publisher } from "../../functions/lib/relay/publisher.js";
import { ResponseRelay } from "../../functions/lib/relay/relay.js";

/** Records publishes; optionally slow or failing, to exercise ordering and failure handling. */
class RecordingPublisher implements Publisher {
  calls: { channel: string; events: OutboundEvent[] }[] = [];
  /** Every publish attempted, failed ones included. */
  attempts = 0;
  constructor(private readonly behaviour: { delayMs?: number; failFrom?: number } = {}) {}
  async publish(channel: string, events: readonly OutboundEvent[]) {
    this.attempts++;
    if (events.length > MAX_EVENTS_PER_PUBLISH) throw new PublishError("too many events", 400);
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

  it("splits a flush of more than five pending events into publishes of at most five, in order", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 10_000 });
    relay.delta(CONV, "first"); // published at once
    // Deltas of alternating conversations are not coalesced: 11 events wait for one flush.
    const other = "c0ffee00-0000-4000-8000-000000000001";
    for (let i = 0; i < 11; i++) relay.delta(i % 2 ? CONV : other, `w${i}`);
    await new Promise((r) => setTimeout(r, 20));
    expect(publisher.events).toHaveLength(1);
    expect(await relay.closed()).toBeUndefined();
    expect(publisher.calls.map((c) => c.events.length)).toEqual([1, 5, 5, 1]);
    expect(publisher.events.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it("attempts no publish after one has failed, within a flush or after it", async () => {
    const publisher = new RecordingPublisher({ failFrom: 1 });
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 10_000 });
    relay.delta(CONV, "first");
    const other = "c0ffee00-0000-4000-8000-000000000001";
    for (let i = 0; i < 11; i++) relay.delta(i % 2 ? CONV : other, `w${i}`);
    expect(await relay.closed()).toBeInstanceOf(PublishError);
    // The first publish went out, the second (5 events) failed, the third was never tried.
    expect(publisher.attempts).toBe(2);
    relay.send({ type: "error", code: "internal_error", message: "late" });
    expect(await relay.closed()).toBeInstanceOf(PublishError);
    expect(publisher.attempts).toBe(2);
  });

  it("replays an event an earlier relay numbered, at once and unchanged, and reports the last event queued", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 1000 });
    const earlier: OutboundEvent = { type: "error", conversationId: CONV, code: "internal_error", message: "lost", requestId: "r1", seq: 7 };
    relay.replay(earlier);
    await relay.closed();
    expect(publisher.events).toEqual([earlier]);
    expect(relay.lastEvent).toBeUndefined();
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    expect(relay.lastEvent).toMatchObject({ type: "start", requestId: "r1", seq: 0 });
    await relay.closed();
  });

  it("continues another attempt's numbering and sends one final event at most", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 1 });
    relay.continueFrom(3);
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    const done = { type: "done", conversationId: CONV, stopReason: "end_turn", cached: false, usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: { firstToken: 1, total: 1 } } as const;
    expect(relay.send(done)).toBe(true);
    expect(relay.ended).toBe(true);
    expect(relay.send({ type: "error", code: "internal_error", message: "second outcome" })).toBe(false);
    relay.delta(CONV, "after the end");
    await relay.closed();
    expect(publisher.events.map((e) => [e.type, e.seq])).toEqual([["start", 3], ["done", 4]]);
    expect(relay.nextSeq).toBe(5);
    expect(() => relay.continueFrom(0)).toThrow();
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

describe("response relay: when events go out", () => {
  const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
  const done = { type: "done", conversationId: CONV, stopReason: "end_turn", cached: false, usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: { firstToken: 1, total: 1 } } as const;

  it("publishes start and a replayed event at once, without waiting for the flush interval", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 60_000 });
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    await tick();
    expect(publisher.events.map((e) => e.type)).toEqual(["start"]);
    const other = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r0", { flushIntervalMs: 60_000 });
    other.replay({ type: "delta", conversationId: CONV, text: "again", requestId: "r0", seq: 4 });
    await tick();
    expect(publisher.events.map((e) => e.seq)).toEqual([0, 4]);
  });

  it("lets deltas follow start (start does not end a request), and queues a delta sent as an event like any delta", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 60_000 });
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    expect(relay.ended).toBe(false);
    expect(relay.send({ type: "delta", conversationId: CONV, text: "queued" })).toBe(true);
    await tick();
    // A delta event waits for the next flush like coalesced deltas do.
    expect(publisher.events.map((e) => e.type)).toEqual(["start"]);
    relay.delta(CONV, " and more");
    relay.send(done);
    await relay.closed();
    expect(publisher.events.map((e) => e.type)).toEqual(["start", "delta", "done"]);
    expect((publisher.events[1] as { text: string }).text).toBe("queued and more");
  });

  it("flushes the deltas after the first one once the flush interval has passed, without being asked", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 15 });
    relay.delta(CONV, "one ");
    relay.delta(CONV, "two ");
    relay.delta(CONV, "three");
    await tick(100);
    expect(publisher.calls.map((c) => c.events.map((e) => (e as { text: string }).text))).toEqual([["one "], ["two three"]]);
    relay.delta(CONV, " four");
    await tick(100);
    expect(publisher.calls).toHaveLength(3);
    await relay.closed();
  });

  it("coalesces deltas of one conversation up to 32,000 characters an event, and never across conversations", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 60_000 });
    relay.delta(CONV, "first");
    relay.delta(CONV, "a".repeat(16_000));
    relay.delta(CONV, "b".repeat(16_000));
    relay.delta(CONV, "c");
    relay.delta(CONV, "d".repeat(20_000));
    relay.delta(CONV, "e".repeat(20_000));
    relay.delta("c0ffee00-0000-4000-8000-000000000001", "other");
    await relay.closed();
    expect(publisher.events.map((e) => (e as { text: string }).text.length)).toEqual([5, 32_000, 20_001, 20_000, 5]);
    expect((publisher.events[4] as { conversationId: string }).conversationId).toBe("c0ffee00-0000-4000-8000-000000000001");
  });

  it("publishes exactly five pending events in one publish and no empty one after it", async () => {
    const publisher = new RecordingPublisher();
    const relay = new ResponseRelay(publisher, "/Outbound-Messages/u1", "r1", { flushIntervalMs: 60_000 });
    relay.delta(CONV, "first");
    const other = "c0ffee00-0000-4000-8000-000000000001";
    for (let i = 0; i < 5; i++) relay.delta(i % 2 ? CONV : other, `w${i}`);
    await relay.closed();
    expect(publisher.calls.map((c) => c.events.length)).toEqual([1, 5]);
    // Nothing pending: closing again publishes nothing.
    await relay.closed();
    expect(publisher.attempts).toBe(2);
  });

  it("refuses to renumber once an event was queued, saying why", () => {
    const relay = new ResponseRelay(new RecordingPublisher(), "/Outbound-Messages/u1", "r1", { flushIntervalMs: 60_000 });
    relay.send({ type: "start", conversationId: CONV, modelId: "m", cached: false });
    expect(() => relay.continueFrom(3)).toThrow("continueFrom after an event was queued");
  });
});
