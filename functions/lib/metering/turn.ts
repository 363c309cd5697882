/**
 * One chat turn's metering, as the worker uses it: admit before the model call, watch the
 * stream, settle once however the turn ends (answer, model failure, relay failure, deadline),
 * and the quota for `done`. Keeps the call sites in worker/chat.ts to a line each.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ConversePart } from "../bedrock/converse.js";
import { GatewayError } from "../protocol/errors.js";
import type { Quota, TokenCounts } from "../protocol/outbound.js";
import type { ResolvedTier } from "../routing/tier.js";
import { estimateInputTokens, estimateOutputTokens, tokenBound } from "./estimate.js";
import type { Admission, PrefetchedUsage, UsageMeter } from "./meter.js";
import { buildQuota } from "./quota.js";

export interface TurnIdentity {
  userId: string;
  requestId: string;
  tier: ResolvedTier;
  log: Logger;
  /** Called once when the turn is refused (limit, concurrency, rate): counts LimitRefusals. */
  onRefusal?: () => void;
}

const REFUSALS = new Set(["limit_exceeded", "concurrency_limit", "rate_limited"]);

export class TurnMetering {
  private admission: Admission | undefined;
  private opened = false;
  private streamedBound = 0;
  private reported: TokenCounts | undefined;
  private settling: Promise<Quota | undefined> | undefined;

  constructor(
    private readonly meter: UsageMeter,
    private readonly turn: TurnIdentity,
  ) {}

  /**
   * Reserves for a call sending `system` and `messages` and wanting `maxTokens`; returns the
   * output tokens granted. Throws the refusal, or internal_error when usage is unreadable.
   * `prefetched`: the user's record, read beside the turn's other reads (UsageMeter.prefetch).
   */
  async admit(system: string, messages: readonly { text: string }[], maxTokens: number, prefetched?: PrefetchedUsage): Promise<number> {
    const { userId, requestId, tier, log, onRefusal } = this.turn;
    try {
      this.admission = await this.meter.admit({ userId, requestId, tier, inputTokens: estimateInputTokens(system, messages), maxTokens }, prefetched);
    } catch (err) {
      if (err instanceof GatewayError && REFUSALS.has(err.code)) {
        onRefusal?.();
        log.info("usage refused the turn", { code: err.code, ...err.extra.details });
      } else log.error("usage could not be reserved", { error_name: (err as Error)?.name });
      throw err;
    }
    const { reservation, attempts } = this.admission;
    log.debug("usage reserved", { reserved_input_tokens: reservation.inputTokens, reserved_output_tokens: reservation.outputTokens, admission_attempts: attempts });
    return this.admission.maxTokens;
  }

  /** The model's parts, passed through, noting what was streamed and what the model reported. */
  async *observe(parts: AsyncGenerator<ConversePart>): AsyncGenerator<ConversePart> {
    this.opened = true;
    for await (const part of parts) {
      if (part.kind === "text") this.streamedBound += tokenBound(part.text);
      else if (part.kind === "usage") this.reported = part.usage;
      yield part;
    }
  }

  /**
   * The model was called but no stream opened (a cancel while it was starting): it may have
   * read the input, so the input estimate is charged.
   */
  modelCalled(): void {
    this.opened = true;
  }

  /**
   * What the turn consumed: the model's report; else, once a stream opened, the reserved input
   * estimate and a bound of what was streamed; nothing when no model answered.
   */
  consumed(): TokenCounts {
    if (!this.admission || !this.opened) return { inputTokens: 0, outputTokens: 0 };
    if (this.reported) return this.reported;
    return {
      inputTokens: this.admission.reservation.inputTokens,
      outputTokens: estimateOutputTokens(this.streamedBound, this.admission.maxTokens),
    };
  }

  /**
   * Settles the turn (once; later calls return the first result) and returns the user's
   * quota after it. Never throws: the tokens are spent whatever happens here, so a failure is
   * logged with the figures for reconciliation, and the quota is then worked out from what
   * admission read.
   */
  settle(): Promise<Quota | undefined> {
    this.settling ??= this.settleOnce();
    return this.settling;
  }

  private async settleOnce(): Promise<Quota | undefined> {
    const admission = this.admission;
    if (!admission) return undefined;
    const { log, userId, tier } = this.turn;
    const consumed = this.consumed();
    if (consumed.inputTokens > admission.reservation.inputTokens) {
      log.warn("model reported more input tokens than were estimated", { reserved_input_tokens: admission.reservation.inputTokens, input_tokens: consumed.inputTokens });
    }
    try {
      const outcome = await this.meter.settle(admission, consumed);
      if (outcome === "duplicate") log.warn("turn was already settled", { input_tokens: consumed.inputTokens, output_tokens: consumed.outputTokens });
    } catch (err) {
      log.error("usage could not be settled", { error_name: (err as Error)?.name, input_tokens: consumed.inputTokens, output_tokens: consumed.outputTokens });
      return this.quotaFromAdmission(consumed);
    }
    try {
      return await this.meter.quota(userId, tier);
    } catch {
      return this.quotaFromAdmission(consumed);
    }
  }

  private quotaFromAdmission(consumed: TokenCounts): Quota {
    const { usage, tier } = this.admission!;
    const add = (t: TokenCounts) => ({ inputTokens: t.inputTokens + consumed.inputTokens, outputTokens: t.outputTokens + consumed.outputTokens });
    const now = this.admission!.reservation.admittedAt;
    return buildQuota(tier.name, tier.tier, { ...usage, daily: add(usage.daily), monthly: add(usage.monthly) }, now);
  }
}
