/**
 * Cancel across worker instances. A running answer registers a record in the conversations
 * table (`run#<requestId>` in the user's partition) and polls it with a strongly consistent
 * read; `cancel` sets `cancel_requested` on it, from whichever instance handles the cancel.
 * Memory would not do: the cancel and the answer rarely run in the same container.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { isExpired } from "../conversations/keys.js";
import { GatewayError } from "../protocol/errors.js";

export const runKey = (requestId: string) => `run#${requestId}`;

/** How the cancel action answers: the answer was running and stops now, or nothing was running. */
export type CancelStatus = "cancelling" | "not_running";

/** The reason a cancelled answer's model stream is aborted with. */
export const cancelledByUser = () => new GatewayError("cancelled", "The answer was stopped at your request.");

export const isCancellation = (err: unknown) => err instanceof GatewayError && err.code === "cancelled";

export interface RunWatch {
  /** Aborts (with a `cancelled` GatewayError) once the user asks to cancel. */
  signal: AbortSignal;
  /** Stops polling and removes the run record. */
  stop(): Promise<void>;
}

export interface RunningAnswersOptions {
  dynamodb: DynamoDBClient;
  /** The conversations table. */
  tableName: string;
  /** How long a run record counts as running: longer than the worker's timeout. */
  runExpirySeconds: number;
  /** How often a running answer checks for a cancel. @default 500 */
  pollIntervalMs?: number;
  /**
   * How long a cancel of a request that is not running yet stays armed: a request still
   * waiting for its worker (async invoke queue) is cancelled when it starts. @default 900
   */
  earlyCancelSeconds?: number;
  /** Told about failed polls (a failed poll never stops the answer). */
  onPollError?: (err: unknown) => void;
  now?: () => number;
}

export class RunningAnswers {
  private readonly db: DynamoDBDocumentClient;
  private readonly now: () => number;

  constructor(private readonly options: RunningAnswersOptions) {
    this.db = DynamoDBDocumentClient.from(options.dynamodb);
    this.now = options.now ?? Date.now;
  }

  /** Registers a running answer and watches it for a cancel until `stop()`. */
  async start(userId: string, requestId: string): Promise<RunWatch> {
    const controller = new AbortController();
    const key = { user_id: userId, sk: runKey(requestId) };
    const nowMs = this.now();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...key, state: "running", started_at: new Date(nowMs).toISOString(), ttl: Math.floor(nowMs / 1000) + this.options.runExpirySeconds },
          // An early cancel (or a crashed attempt's record) is already there: look at it first.
          ConditionExpression: "attribute_not_exists(sk)",
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = await this.db.send(new GetCommand({ TableName: this.options.tableName, Key: key, ConsistentRead: true }));
      if (existing.Item?.cancel_requested && !isExpired(existing.Item.ttl, this.now())) controller.abort(cancelledByUser());
      else {
        await this.db.send(
          new PutCommand({
            TableName: this.options.tableName,
            Item: { ...key, state: "running", started_at: new Date(nowMs).toISOString(), ttl: Math.floor(nowMs / 1000) + this.options.runExpirySeconds },
          }),
        );
      }
    }

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const poll = async () => {
      try {
        const result = await this.db.send(
          new GetCommand({ TableName: this.options.tableName, Key: key, ConsistentRead: true, ProjectionExpression: "cancel_requested" }),
        );
        if (result.Item?.cancel_requested) controller.abort(cancelledByUser());
      } catch (err) {
        this.options.onPollError?.(err);
      }
      if (!stopped && !controller.signal.aborted) timer = setTimeout(poll, this.options.pollIntervalMs ?? 500);
    };
    if (!controller.signal.aborted) timer = setTimeout(poll, this.options.pollIntervalMs ?? 500);

    return {
      signal: controller.signal,
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        // Gone with the answer: a later cancel of this id reads as not running.
        await this.db.send(new DeleteCommand({ TableName: this.options.tableName, Key: key })).catch((err) => this.options.onPollError?.(err));
      },
    };
  }

  /** Asks the caller's own answer `targetRequestId` to stop; says whether it was running. */
  async requestCancel(userId: string, targetRequestId: string): Promise<CancelStatus> {
    const nowMs = this.now();
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { user_id: userId, sk: runKey(targetRequestId) },
        // On no record this creates a short-lived early cancel, honoured if the request starts later.
        UpdateExpression: "SET cancel_requested = :yes, cancel_requested_at = :at, #ttl = if_not_exists(#ttl, :early)",
        ExpressionAttributeNames: { "#ttl": "ttl" },
        ExpressionAttributeValues: {
          ":yes": true,
          ":at": new Date(nowMs).toISOString(),
          ":early": Math.floor(nowMs / 1000) + (this.options.earlyCancelSeconds ?? 900),
        },
        ReturnValues: "ALL_OLD",
      }),
    );
    const old = result.Attributes;
    return old?.state === "running" && !isExpired(old.ttl, nowMs) ? "cancelling" : "not_running";
  }
}
