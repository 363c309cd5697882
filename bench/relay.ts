/**
 * Relay benchmark: one 1,000-token answer streamed by the Bedrock-compatible server as
 * single-token deltas at ~100 tokens/s, relayed to the local Events server's SigV4 `/event`
 * two ways in the same run: the gateway's ResponseRelay, and one publish per delta (the
 * seed's way). It counts publish requests and events, and measures each delta's delay from
 * the moment the worker got it from the model to the moment the publish carrying it was sent
 * (the delay the relay adds: coalescing and waiting behind earlier publishes) and to the
 * moment it was acknowledged (that plus the round trip, which either way pays).
 */
import { converseStream } from "../functions/lib/bedrock/converse.js";
import { createBedrockClient } from "../functions/lib/bedrock/client.js";
import type { OutboundEvent } from "../functions/lib/protocol/outbound.js";
import { HttpEventPublisher, type Publisher } from "../functions/lib/relay/publisher.js";
import { ResponseRelay } from "../functions/lib/relay/relay.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { LOCAL_CREDENTIALS } from "../local/dynamodb.js";

const REGION = "us-east-1";
const CONV = "00000000-0000-4000-8000-000000000000";

/**
 * Counts publishes and notes, per publish, how many delta characters had been handed over
 * when it was sent and when it was acknowledged.
 */
class MeasuringPublisher implements Publisher {
  requests = 0;
  events = 0;
  private handedChars = 0;
  private sent: [number, number][] = [];
  private acked: [number, number][] = [];
  constructor(private readonly inner: Publisher) {}
  async publish(channel: string, events: readonly OutboundEvent[]) {
    for (const e of events) if (e.type === "delta") this.handedChars += e.text.length;
    const chars = this.handedChars;
    this.sent.push([chars, performance.now()]);
    await this.inner.publish(channel, events);
    this.acked.push([chars, performance.now()]);
    this.requests++;
    this.events += events.length;
  }
  /** Each delta's delay until the publish carrying it was sent, and until it was acknowledged. */
  delays(deltas: { end: number; at: number }[]) {
    const find = (marks: [number, number][]) => {
      let k = 0;
      return deltas.map(({ end, at }) => {
        while (marks[k]![0] < end) k++;
        return marks[k]![1] - at;
      });
    };
    return { untilSent: find(this.sent), untilAcked: find(this.acked) };
  }
}

function summarize(publisher: MeasuringPublisher, delays: { untilSent: number[]; untilAcked: number[] }) {
  return {
    requests: publisher.requests,
    events: publisher.events,
    sentP50: percentile(delays.untilSent, 50),
    sentP99: percentile(delays.untilSent, 99),
    ackedP50: percentile(delays.untilAcked, 50),
    ackedP99: percentile(delays.untilAcked, 99),
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function benchRelay(options: { tokens?: number; rate?: number; flushIntervalMs?: number } = {}) {
  const tokens = options.tokens ?? 1000;
  const rate = options.rate ?? 100;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const servers = await startRemoteSide();
  try {
    // Each way gets a warm publisher (connection open, code paths compiled): the figures are
    // about relaying, not about a container's first request.
    const publisher = async () => {
      const p = new HttpEventPublisher({ endpoint: servers.eventsHttpEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
      for (let i = 0; i < 20; i++) {
        await p.publish("/Outbound-Messages/bench-warmup", [{ type: "delta", conversationId: CONV, text: "warm", requestId: "warmup", seq: i }]);
      }
      return p;
    };
    process.env.AWS_ACCESS_KEY_ID ??= "bench";
    process.env.AWS_SECRET_ACCESS_KEY ??= "bench";
    process.env.AWS_REGION ??= REGION;
    const client = createBedrockClient({ endpoint: servers.bedrockUrl });

    /** Streams the answer once, handing each delta to `relayDelta`; returns arrival times. */
    const streamAnswer = async (relayDelta: (text: string) => void) => {
      const deltas: { end: number; at: number }[] = [];
      let chars = 0;
      const stream = converseStream(client, {
        modelId: "us.amazon.nova-lite-v1:0",
        system: "",
        messages: [{ role: "user", text: `Tell me a long story [[fake:tokens=${tokens},rate=${rate}]]` }],
        maxTokens: tokens,
      });
      for await (const part of stream) {
        if (part.kind !== "text") continue;
        chars += part.text.length;
        deltas.push({ end: chars, at: performance.now() });
        relayDelta(part.text);
      }
      return deltas;
    };

    // The two ways run one after the other, so neither's publishes slow the other's.
    const relayed = new MeasuringPublisher(await publisher());
    const relay = new ResponseRelay(relayed, "/Outbound-Messages/bench-relay", "r-relay", { flushIntervalMs });
    const startedAt = performance.now();
    const relayDeltas = await streamAnswer((text) => relay.delta(CONV, text));
    const streamSeconds = (performance.now() - startedAt) / 1000;
    const failure = await relay.closed();
    if (failure) throw failure;

    const perDelta = new MeasuringPublisher(await publisher());
    let seq = 0;
    let chain = Promise.resolve();
    const baseDeltas = await streamAnswer((text) => {
      const event: OutboundEvent = { type: "delta", conversationId: CONV, text, requestId: "r-base", seq: seq++ };
      chain = chain.then(() => perDelta.publish("/Outbound-Messages/bench-base", [event]));
    });
    await chain;
    client.destroy();

    const relayDelays = relayed.delays(relayDeltas);
    const baseDelays = perDelta.delays(baseDeltas);
    return {
      tokens: relayDeltas.length,
      streamSeconds,
      flushIntervalMs,
      relay: summarize(relayed, relayDelays),
      perDelta: summarize(perDelta, baseDelays),
    };
  } finally {
    await servers.stop();
  }
}

/** Starts bench/servers.ts in a child process, so its work does not share the relay's thread. */
export async function startRemoteSide() {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./servers.ts", import.meta.url).pathname], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  const endpoints = JSON.parse(line) as { bedrockUrl: string; eventsHttpEndpoint: string };
  return {
    ...endpoints,
    async stop() {
      process.removeListener("exit", kill);
      const exited = once(child, "exit");
      child.stdin!.end();
      await exited;
    },
  };
}
