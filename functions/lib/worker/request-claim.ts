/**
 * Claiming `(sub, requestId)` before any work, with Powertools idempotency over DynamoDB, so a
 * duplicate delivery (Lambda async is at-least-once; clients resend after timeouts) is answered
 * once. A run that throws releases its claim, so a resend may try again.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";

/** What a finished request left behind: its final event, replayed to a duplicate. */
export type ClaimResult = Record<string, unknown> | null;

export type ClaimOutcome =
  | { kind: "ran" }
  /** Claimed before and finished: `result` is what that run returned. */
  | { kind: "finished"; result: ClaimResult }
  /** Claimed before and still running: the original run answers. */
  | { kind: "in_progress" };

export interface RequestClaim {
  /** Runs `work` unless this request was claimed before; tells which happened. */
  runOnce(key: { sub: string; requestId: string }, work: () => Promise<ClaimResult>): Promise<ClaimOutcome>;
  registerLambdaContext(context: Context): void;
}

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
  const claimed = makeIdempotent(
    async (_key: { sub: string; requestId: string }, work: () => Promise<ClaimResult>) => ({ result: await work() }),
    { persistenceStore, config, dataIndexArgument: 0, keyPrefix: "chat-request" },
  );

  return {
    async runOnce(key, work) {
      let ran = false;
      try {
        const stored = await claimed({ sub: key.sub, requestId: key.requestId }, () => {
          ran = true;
          return work();
        });
        return ran ? { kind: "ran" } : { kind: "finished", result: stored.result ?? null };
      } catch (err) {
        if (err instanceof IdempotencyAlreadyInProgressError) return { kind: "in_progress" };
        throw err;
      }
    },
    registerLambdaContext: (context) => config.registerLambdaContext(context),
  };
}
