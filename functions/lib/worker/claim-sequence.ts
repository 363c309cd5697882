/**
 * Where the next attempt of a released request starts numbering its events. A request whose
 * attempt failed retryably (nothing generated) is released so the client may resend the same
 * `requestId`; its `seq` continues where the failed attempt stopped, so a client that orders
 * by `seq` and drops repeats (README) sees the retry's events instead of discarding them.
 *
 * Powertools deletes a released claim, so the number lives in an item of its own in the
 * idempotency table (its key prefix never collides with Powertools' `chat-request#...`).
 */
import { createHash } from "node:crypto";
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface ClaimSequence {
  /** The seq the request's next attempt starts at: 0 unless an earlier attempt was released. */
  firstSeq(key: { sub: string; requestId: string }): Promise<number>;
  /** Remembers where the next attempt starts, before the claim is released. */
  remember(key: { sub: string; requestId: string }, nextSeq: number): Promise<void>;
}

export function createClaimSequence(options: { tableName: string; dynamodb: DynamoDBClient; expiresAfterSeconds: number }): ClaimSequence {
  const id = (key: { sub: string; requestId: string }) =>
    `chat-request-next-seq#${createHash("sha256").update(JSON.stringify([key.sub, key.requestId])).digest("hex")}`;
  return {
    async firstSeq(key) {
      const { Item } = await options.dynamodb.send(
        new GetItemCommand({ TableName: options.tableName, Key: { id: { S: id(key) } }, ConsistentRead: true, ProjectionExpression: "next_seq, expiration" }),
      );
      // TTL deletion is lazy: an expired item counts as absent.
      if (!Item?.next_seq?.N || Number(Item.expiration?.N ?? 0) < Date.now() / 1000) return 0;
      return Number(Item.next_seq.N);
    },
    async remember(key, nextSeq) {
      await options.dynamodb.send(
        new PutItemCommand({
          TableName: options.tableName,
          Item: {
            id: { S: id(key) },
            next_seq: { N: String(nextSeq) },
            expiration: { N: String(Math.floor(Date.now() / 1000) + options.expiresAfterSeconds) },
          },
        }),
      );
    },
  };
}
