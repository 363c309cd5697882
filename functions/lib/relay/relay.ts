/**
 * The relay of one request's answer to the user's outbound channel. It numbers events (`seq`),
 * coalesces deltas that arrive within `flushIntervalMs` into one event, packs up to five events
 * into one publish, and keeps publishes in order. The first delta goes out at once (time to
 * first token); later ones wait at most one flush interval. Terminal events flush at once.
 *
 * It never throws at its caller: a publish that fails after retries marks the relay failed
 * (the worker stops the model early, since nobody can receive the answer) and is reported by
 * `closed()`. It sends at most one final event (anything but `start` and `delta`): a request
 * ends once, whatever happens after.
 */
import type { OutboundBody, OutboundEvent } from "../protocol/outbound.js";
import { MAX_EVENTS_PER_PUBLISH, type Publisher } from "./publisher.js";

/** Keeps one coalesced delta far below AppSync's 240 KB per event, even at 4 bytes a char. */
const MAX_DELTA_CHARS = 32_000;

export interface RelayOptions {
  flushIntervalMs: number;
}

export class ResponseRelay {
  private seq = 0;
  private pending: OutboundEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private sentFirstDelta = false;
  private failure: unknown;
  private last: OutboundEvent | undefined;
  private finalSent = false;

  constructor(
    private readonly publisher: Publisher,
    private readonly channel: string,
    private readonly requestId: string,
    private readonly options: RelayOptions,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** The last event queued: a request's outcome once it is over. */
  get lastEvent(): OutboundEvent | undefined {
    return this.last;
  }

  /** Whether a final event was sent: the request has ended, nothing more may follow. */
  get ended(): boolean {
    return this.finalSent;
  }

  /** The seq the next event gets. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Numbers this request's events from `seq` on, continuing an earlier attempt's numbering.
   * Only before the first event.
   */
  continueFrom(seq: number): void {
    if (this.last !== undefined) throw new Error("continueFrom after an event was queued");
    this.seq = seq;
  }

  /** Publishes an event already numbered by an earlier relay (a duplicate's replay). */
  replay(event: OutboundEvent): void {
    this.pending.push(event);
    this.flushNow();
  }

  /**
   * Queue a whole event. Anything but `start` and `delta` ends a request, so it flushes now;
   * after that, the request has ended and further events are dropped (returns false).
   */
  send(body: OutboundBody): boolean {
    if (this.finalSent) return false;
    if (body.type !== "start" && body.type !== "delta") this.finalSent = true;
    this.enqueue(body);
    if (body.type !== "delta") this.flushNow();
    return true;
  }

  delta(conversationId: string, text: string): void {
    if (!text || this.finalSent) return;
    const last = this.pending.at(-1);
    if (last?.type === "delta" && last.conversationId === conversationId && last.text.length + text.length <= MAX_DELTA_CHARS) {
      last.text += text;
    } else {
      this.enqueue({ type: "delta", conversationId, text });
    }
    if (!this.sentFirstDelta) {
      this.sentFirstDelta = true;
      this.flushNow();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flushNow(), this.options.flushIntervalMs);
    }
  }

  /** Waits for every queued event to be published; resolves to the failure, if any. */
  async closed(): Promise<unknown> {
    this.flushNow();
    await this.chain;
    return this.failure;
  }

  private enqueue(body: OutboundBody): void {
    const event = { ...body, requestId: this.requestId, seq: this.seq++ } as OutboundEvent;
    this.last = event;
    this.pending.push(event);
  }

  private flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.chain = this.chain.then(() => this.publishInOrder(batch));
  }

  private async publishInOrder(batch: OutboundEvent[]): Promise<void> {
    for (let i = 0; i < batch.length && !this.failed; i += MAX_EVENTS_PER_PUBLISH) {
      try {
        await this.publisher.publish(this.channel, batch.slice(i, i + MAX_EVENTS_PER_PUBLISH));
      } catch (err) {
        this.failure = err;
      }
    }
  }
}
