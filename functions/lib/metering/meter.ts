/**
 * Token metering for the chat worker (DESIGN 5): admit (reserve) before the model call,
 * settle after it, and the `quota` a user sees. Admission is one consistent read of the
 * user's admission record and one write conditioned on its version, retried with jittered
 * backoff when another admission or a settlement got there first (I3). Anything that keeps
 * usage from being read or written refuses the turn (I5).
 *
 * The read can start early (`prefetch`), beside the turn's other reads, so that admission adds
 * one round trip (the write) to the turn instead of two. A prefetched record is only a first
 * guess: the write is conditioned on its version, and a conflict re-reads, as always.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { setTimeout as sleep } from "node:timers/promises";
import type { Quota, TokenCounts } from "../protocol/outbound.js";
import { GatewayError } from "../protocol/errors.js";
import type { ResolvedTier } from "../routing/tier.js";
import { decideAdmission } from "./decide.js";
import { buildQuota } from "./quota.js";
import type { AdmissionRecord, Reservation } from "./record.js";
import { isTransientConflict, UsageStore, type SettleOutcome } from "./store.js";
import { usageAt, type UsageSnapshot } from "./usage.js";

export interface UsageMeterOptions {
  dynamodb: DynamoDBClient;
  tableName: string;
  /**
   * How long a reservation counts when its turn never settles (the worker crashed). Must be
   * longer than the worker's timeout, so a live turn's reservation never lapses.
   */
  reservationTtlMs: number;
  /** The clock (epoch ms). @default Date.now */
  now?: () => number;
  /** How long admission keeps retrying against concurrent writers before it gives up (I5). @default 10000 */
  admissionBudgetMs?: number;
}

export interface AdmitRequest {
  userId: string;
  requestId: string;
  tier: ResolvedTier;
  /** Upper bound of the call's input tokens (estimate.ts). */
  inputTokens: number;
  /** Output tokens wanted, already bounded by the tier and the model. */
  maxTokens: number;
}

/** A turn's admission: what it may spend, and what it holds until it settles. */
export interface Admission {
  userId: string;
  requestId: string;
  tier: ResolvedTier;
  /** Output tokens the model may produce (clamped to what is left). */
  maxTokens: number;
  reservation: Reservation;
  /** Usage as admission read it, without this turn. */
  usage: UsageSnapshot;
  /** Read-and-write rounds it took (1 without contention). */
  attempts: number;
}

/** A user's admission record, being read ahead of the admit or quota that uses it. */
export interface PrefetchedUsage {
  userId: string;
  /** Rejects when the record could not be read; never left unhandled. */
  record: Promise<AdmissionRecord>;
}

export interface UsageMeter {
  /**
   * Starts reading the user's admission record now, for an `admit` or `quota` that follows
   * (they then skip their own first read). Unused, it costs one read and nothing else.
   */
  prefetch(userId: string): PrefetchedUsage;
  /**
   * Reserves the turn's input estimate and output tokens. Throws a GatewayError refusal
   * (`limit_exceeded`, `concurrency_limit`, `rate_limited`), or `internal_error` when usage
   * cannot be read or written: the model must not be called then. `prefetched` (of the same
   * user) stands in for the first attempt's read.
   */
  admit(request: AdmitRequest, prefetched?: PrefetchedUsage): Promise<Admission>;
  /** Charges what the turn consumed and releases its reservation, once per request id. */
  settle(admission: Admission, consumed: TokenCounts): Promise<SettleOutcome>;
  /**
   * The user's quota: now, or as `prefetched` (of the same user) read it. Throws
   * `internal_error` when usage cannot be read.
   */
  quota(userId: string, tier: ResolvedTier, prefetched?: PrefetchedUsage): Promise<Quota>;
}

/**
 * A reservation's lifetime for a worker with this timeout: the timeout and a minute more, so
 * it lapses only once the worker is certainly gone (DESIGN 2: timeout < reservation expiry).
 */
export function reservationLifetimeMs(workerTimeoutSeconds: number): number {
  return (workerTimeoutSeconds + 60) * 1000;
}

const usageUnavailable = () =>
  new GatewayError("internal_error", "Your usage could not be checked just now, so the request was not sent to the model. Please try again.", {
    retryAfterSeconds: 5,
  });

export function createUsageMeter(options: UsageMeterOptions): UsageMeter {
  const store = new UsageStore(options.dynamodb, options.tableName);
  const now = options.now ?? Date.now;
  const budgetMs = options.admissionBudgetMs ?? 10_000;

  /** The prefetched record if it is this user's and the first attempt's; else a fresh read. */
  const readRecord = (userId: string, prefetched: PrefetchedUsage | undefined, attempt = 1) =>
    attempt === 1 && prefetched?.userId === userId ? prefetched.record : store.readRecord(userId);

  return {
    prefetch(userId) {
      const record = store.readRecord(userId);
      // Whoever uses it sees the failure; nobody else must (an unhandled rejection).
      record.catch(() => undefined);
      return { userId, record };
    },

    async admit(request, prefetched) {
      const giveUpAt = now() + budgetMs;
      for (let attempt = 1; ; attempt++) {
        let written: boolean;
        let grant: ReturnType<typeof decideAdmission>;
        try {
          const record = await readRecord(request.userId, prefetched, attempt);
          const at = now();
          grant = decideAdmission(record, request.tier.tier, request, at, options.reservationTtlMs);
          written = await store.writeRecord(request.userId, grant.next, at);
        } catch (err) {
          if (err instanceof GatewayError) throw err;
          throw usageUnavailable();
        }
        if (written) {
          const { maxTokens, reservation, usage } = grant;
          return { userId: request.userId, requestId: request.requestId, tier: request.tier, maxTokens, reservation, usage, attempts: attempt };
        }
        if (now() >= giveUpAt) throw usageUnavailable();
        await sleep(backoffMs(attempt));
      }
    },

    async settle(admission, consumed) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await store.settle(admission.userId, admission.requestId, consumed, now());
        } catch (err) {
          if (!isTransientConflict(err) || attempt >= 8) throw err;
          await sleep(backoffMs(attempt));
        }
      }
    },

    async quota(userId, tier, prefetched) {
      try {
        const record = await readRecord(userId, prefetched);
        const at = now();
        return buildQuota(tier.name, tier.tier, usageAt(record, at), at);
      } catch {
        throw usageUnavailable();
      }
    },
  };
}

/** Full jitter, doubling from 4 ms up to 100 ms: contenders spread out instead of colliding again. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(100, 4 * 2 ** attempt);
}
