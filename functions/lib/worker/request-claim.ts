/**
 * Claiming `(sub, requestId)` before any work, with Powertools idempotency over DynamoDB, so a
 * duplicate delivery (Lambda async is at-least-once; clients resend after timeouts) is answered
 * once. An attempt that failed retryably releases its claim, so a resend may try again, and
 * numbers its events on from where the failed attempt stopped (claim-sequence.ts).
 *
 * Once the work has run, its events are out: a failure to record the result or release the
 * claim must not turn into a second outcome for the user. Those writes are retried here, and a
 * write that still fails is reported to the caller (to log), never thrown.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { createClaimSequence } from "./claim-sequence.js";

/** What a finished request left behind: its final event, replayed to a duplicate. */
export type ClaimResult = Record<string, unknown> | null;

type ClaimKey = { sub: string; requestId: string };

/** How an attempt ended, as far as its claim is concerned. */
export type AttemptEnd =
  /** Final for this request id: the claim completes and keeps `result` for duplicates. */
  | { kind: "final"; result: ClaimResult }
  /** Nothing was generated: the claim is released; the next attempt numbers from `nextSeq`. */
  | { kind: "retryable"; nextSeq: number };

export type ClaimOutcome =
  /**
   * The work ran. `storeFailure` is set when its end could not be written to the store; with
   * `heldUntil` (epoch ms) when a retryable attempt's claim could not be released and keeps
   * the request id until then.
   */
  | { kind: "ran"; storeFailure?: { stage: "record" | "release" | "sequence"; error: unknown }; heldUntil?: number }
  /** Claimed before and finished: `result` is what that run kept. */
  | { kind: "finished"; result: ClaimResult }
  /** Claimed before and still running: the original run answers. */
  | { kind: "in_progress" };

export interface RequestClaim {
  /**
   * Runs `work` unless this request was claimed before; tells which happened. The work gets
   * the seq its events start at as a read under way, so it can start its own reads beside it;
   * it must await it before sending any event. If the read fails, the work should throw it:
   * the claim is released and the failure is the caller's, as for a failed claim.
   */
  runOnce(key: ClaimKey, work: (attempt: { firstSeq: Promise<number> }) => Promise<AttemptEnd>): Promise<ClaimOutcome>;
  registerLambdaContext(context: Context): void;
}

/** Attempts of a store write once the work has run, and the pauses between them. */
const STORE_WRITE_PAUSES_MS = [100, 400];

/** Thrown inside the idempotent function so that Powertools deletes the claim. */
class ReleaseClaim extends Error {}

export function createRequestClaim(options: {
  tableName: string;
  dynamodb: DynamoDBClient;
  /** How long a finished request id stays claimed. */
  expiresAfterSeconds: number;
}): RequestClaim {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "[sub, requestId]",
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: options.tableName, awsSdkV3Client: options.dynamodb });
  const sequence = createClaimSequence(options);
  let lambdaContext: Context | undefined;
  const claimed = makeIdempotent(
    async (key: ClaimKey, run: () => Promise<ClaimResult>) => ({ result: await run() }),
    { persistenceStore, config, dataIndexArgument: 0, keyPrefix: "chat-request" },
  );

  return {
    async runOnce(key, work) {
      const claimKey = { sub: key.sub, requestId: key.requestId };
      let end: AttemptEnd | undefined;
      let claimedAt = 0;
      let sequenceFailure: unknown;
      try {
        const stored = await claimed(claimKey, async () => {
          claimedAt = Date.now();
          const firstSeq = sequence.firstSeq(claimKey);
          // A work that ends without awaiting it (a crash) must not leave its failure unhandled.
          firstSeq.catch(() => undefined);
          end = await work({ firstSeq });
          if (end.kind === "final") return end.result;
          const nextSeq = end.nextSeq;
          sequenceFailure = await retried(() => sequence.remember(claimKey, nextSeq));
          throw new ReleaseClaim();
        });
        if (!end) return { kind: "finished", result: stored.result ?? null };
        return { kind: "ran" };
      } catch (err) {
        if (err instanceof IdempotencyAlreadyInProgressError) return { kind: "in_progress" };
        // Before the work ended (claiming, reading the sequence, the work itself): nothing to keep.
        if (!end) throw err;
        const attempt: AttemptEnd = end;
        if (attempt.kind === "retryable") {
          const releaseFailure = err instanceof ReleaseClaim ? undefined : await retried(() => persistenceStore.deleteRecord(claimKey));
          if (releaseFailure !== undefined) {
            return { kind: "ran", storeFailure: { stage: "release", error: releaseFailure }, heldUntil: heldUntil(claimedAt) };
          }
          return sequenceFailure !== undefined ? { kind: "ran", storeFailure: { stage: "sequence", error: sequenceFailure } } : { kind: "ran" };
        }
        const recordFailure = await retried(() => persistenceStore.saveSuccess(claimKey, { result: attempt.result } as never));
        return recordFailure !== undefined ? { kind: "ran", storeFailure: { stage: "record", error: recordFailure } } : { kind: "ran" };
      }
    },
    registerLambdaContext(context) {
      lambdaContext = context;
      config.registerLambdaContext(context);
    },
  };

  /** When an unreleased claim lapses: Powertools' in-progress expiry, else the record's own. */
  function heldUntil(claimedAt: number): number {
    const remaining = lambdaContext?.getRemainingTimeInMillis();
    return remaining !== undefined ? Date.now() + remaining : claimedAt + options.expiresAfterSeconds * 1000;
  }
}

/** Runs a store write until it succeeds or its attempts are spent; resolves to the last failure. */
async function retried(write: () => Promise<unknown>): Promise<unknown> {
  let failure: unknown;
  for (let attempt = 0; attempt <= STORE_WRITE_PAUSES_MS.length; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, STORE_WRITE_PAUSES_MS[attempt - 1]));
    try {
      await write();
      return undefined;
    } catch (err) {
      failure = err ?? new Error("store write failed");
    }
  }
  return failure;
}
