/**
 * One analytics record per chat turn, sent after the turn's final event and never in its way.
 *
 * The record describes what the user was told, so the recorder reads it off the worker's
 * outbound events: it wraps the worker's publisher (`observe`) and notes, per request that
 * `beginTurn` announced, the model of `start`, when answer text first went out, and the final
 * `done` or `error`. Whatever later capabilities put in those events (cache hits, quota) reaches
 * the record without another call site. `flush`, awaited by the handler before the invocation
 * returns, builds the records and hands them to Firehose; a failure there is logged and counted
 * (AnalyticsDeliveryFailures), never thrown.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { GatewayConfig } from "../config/schema.js";
import { METRIC, MetricUnit } from "../observability/metrics.js";
import type { InboundRequest } from "../protocol/inbound.js";
import { outboundChannel } from "../protocol/channels.js";
import type { OutboundEvent } from "../protocol/outbound.js";
import type { Publisher } from "../relay/publisher.js";
import type { TurnRecord } from "./columns.js";
import type { RecordDelivery } from "./firehose.js";
import { buildTurnRecord, PREVIEW_CHARS, type TurnEnding } from "./record.js";

/** What the worker says when a chat turn begins (inside its request claim: never for a duplicate). */
export interface TurnBeginning {
  userId: string;
  request: InboundRequest;
  /** The tier's name. */
  tier: string;
}

/** The worker's view of analytics (WorkerDeps.analytics). */
export interface AnalyticsRecorder {
  /** Wraps the worker's publisher so the recorder sees each turn's events. */
  observe(publisher: Publisher): Publisher;
  /** Announces a chat turn; other actions are ignored. */
  beginTurn(turn: TurnBeginning): void;
  /** Sends the records of the turns begun so far; resolves (never rejects) when done or timed out. */
  flush(): Promise<void>;
}

interface OpenTurn {
  beginning: TurnBeginning & { request: InboundRequest & { conversationId: string; message: string } };
  startedAt: number;
  startedAtMono: number;
  modelId: string | null;
  answerStarted: boolean;
  cached: boolean;
  firstTextAt: number | null;
  answerStart: string;
  ending?: TurnEnding;
  endedAt?: number;
}

export interface TurnRecorderOptions {
  config: GatewayConfig;
  delivery: RecordDelivery;
  logger: Logger;
  /** Per-invocation metrics (flushed by the handler's middleware): where failures are counted. */
  metrics: Metrics;
  /** Wall clock, for the record's timestamp. @default Date.now */
  now?: () => number;
}

export class TurnRecorder implements AnalyticsRecorder {
  private readonly open = new Map<string, OpenTurn>();
  private readonly now: () => number;

  constructor(private readonly options: TurnRecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  observe(publisher: Publisher): Publisher {
    return {
      publish: (channel, events) => {
        this.note(channel, events);
        return publisher.publish(channel, events);
      },
    };
  }

  beginTurn({ userId, request, tier }: TurnBeginning): void {
    if (request.action !== "chat" || request.conversationId === undefined || request.message === undefined) return;
    this.open.set(request.requestId, {
      beginning: { userId, tier, request: { ...request, conversationId: request.conversationId, message: request.message } },
      startedAt: this.now(),
      startedAtMono: performance.now(),
      modelId: request.modelId ?? null,
      answerStarted: false,
      cached: false,
      firstTextAt: null,
      answerStart: "",
    });
  }

  async flush(): Promise<void> {
    if (this.open.size === 0) return;
    const turns = [...this.open.values()];
    this.open.clear();
    let records: TurnRecord[] = [];
    try {
      records = turns.map((turn) => this.recordOf(turn));
      const outcome = await this.options.delivery.deliver(records);
      if (outcome.failed > 0) this.deliveryFailed(outcome.failed, { error_codes: [...new Set(outcome.errorCodes)] });
    } catch (err) {
      this.deliveryFailed(records.length || turns.length, { error_name: (err as Error)?.name });
    }
  }

  private note(channel: string, events: readonly OutboundEvent[]): void {
    for (const event of events) {
      const turn = this.open.get(event.requestId);
      if (!turn || turn.ending || channel !== outboundChannel(turn.beginning.userId)) continue;
      switch (event.type) {
        case "start":
          turn.modelId = event.modelId;
          turn.cached = event.cached;
          turn.answerStarted = true;
          break;
        case "delta":
          turn.firstTextAt ??= performance.now();
          if (this.options.config.observability.logPreviews && turn.answerStart.length < PREVIEW_CHARS) turn.answerStart += event.text;
          break;
        case "done":
          turn.cached = event.cached;
          turn.ending = { kind: "done", stopReason: event.stopReason, usage: event.usage, latencyMs: event.latencyMs };
          turn.endedAt = performance.now();
          break;
        case "error":
          turn.ending = { kind: "error", code: event.code };
          turn.endedAt = performance.now();
          break;
      }
    }
  }

  private recordOf(turn: OpenTurn): TurnRecord {
    const { beginning } = turn;
    const since = (at: number) => at - turn.startedAtMono;
    return buildTurnRecord(
      {
        requestId: beginning.request.requestId,
        userId: beginning.userId,
        conversationId: beginning.request.conversationId,
        tier: beginning.tier,
        startedAt: turn.startedAt,
        modelId: turn.modelId,
        answerStarted: turn.answerStarted,
        cached: turn.cached,
        ending: turn.ending ?? { kind: "undelivered" },
        observedMs: {
          firstToken: turn.firstTextAt === null ? null : since(turn.firstTextAt),
          total: since(turn.endedAt ?? performance.now()),
        },
        prompt: beginning.request.message,
        answerStart: turn.answerStart,
      },
      this.options.config,
    );
  }

  private deliveryFailed(count: number, details: Record<string, unknown>): void {
    try {
      this.options.logger.warn("analytics records not delivered", { records: count, ...details });
      this.options.metrics.addMetric(METRIC.analyticsDeliveryFailures, MetricUnit.Count, count);
    } catch {
      // Counting the failure must not fail the invocation either.
    }
  }
}
