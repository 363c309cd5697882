/**
 * How many sequential DynamoDB round trips a chat turn makes before the model is called: the
 * claim, one round of reads in parallel (the claim's sequence, the cancel record, history, the
 * prepared-response lookup, the admission record), the admission write. Counted with an SDK
 * middleware on the real client over DynamoDB Local, as bench/metering.ts counts them.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { PreparedCache } from "../../functions/lib/cache/store.js";
import { RunningAnswers } from "../../functions/lib/cancel/runs.js";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import { createUsageMeter, reservationLifetimeMs } from "../../functions/lib/metering/meter.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { inboundPublish, lambdaContext, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;

beforeAll(async () => {
  harness = await startWorkerHarness({ ...devLikeConfig(), relay: { flushIntervalMs: 20 } });
});
afterAll(() => harness?.close());

/** A DynamoDB client that numbers each request's round trip and can fail chosen requests. */
function tracedClient(options: { fail?: (command: string, input: Record<string, unknown>) => boolean } = {}) {
  const client = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
  const trace = { depth: 0, requests: [] as { command: string; round: number }[] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const round = trace.depth + 1;
      trace.requests.push({ command: context.commandName!, round });
      try {
        if (options.fail?.(context.commandName!, args.input as Record<string, unknown>)) throw Object.assign(new Error("unavailable"), { name: "ServiceUnavailable" });
        return await next(args);
      } finally {
        trace.depth = Math.max(trace.depth, round);
      }
    },
    { step: "initialize", name: "roundTrips" },
  );
  return { client, trace };
}

/** The worker's deps with every store on `client`, and the round trip at which the model was called. */
function tracedDeps(client: DynamoDBClient, trace: { depth: number; requests: unknown[] }) {
  const config = loadGatewayConfig();
  const base = workerDeps(harness);
  const model = { calledAfter: undefined as number | undefined, requestsBefore: 0 };
  base.bedrock.middlewareStack.add(
    (next) => async (args) => {
      if (model.calledAfter === undefined) {
        model.calledAfter = trace.depth;
        model.requestsBefore = trace.requests.length;
      }
      return next(args);
    },
    { step: "initialize", name: "modelCall" },
  );
  const deps: WorkerDeps = {
    ...base,
    claim: createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: client, expiresAfterSeconds: 3600 }),
    usage: createUsageMeter({ dynamodb: client, tableName: harness.usageTable, reservationTtlMs: reservationLifetimeMs(config.worker.timeoutSeconds) }),
    conversations: new ConversationStore({ dynamodb: client, tableName: harness.conversationsTable, ttlDays: config.history.ttlDays }),
    cache: new PreparedCache({ dynamodb: client, tableName: harness.cacheTable }),
    // No cancel poll within a test's turn: only the requests before the model call are counted.
    cancels: new RunningAnswers({ dynamodb: client, tableName: harness.conversationsTable, runExpirySeconds: 360, pollIntervalMs: 60_000 }),
  };
  deps.claim.registerLambdaContext(lambdaContext() as never);
  return { deps, model };
}

describe("round trips before the model call", () => {
  it("a first turn and a later turn each reach the model after three: the claim, one round of reads, the admission write", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    for (const [i, message] of ["Hello there [[fake:tokens=3]]", "And again [[fake:tokens=3]]"].entries()) {
      const { client, trace } = tracedClient();
      const { deps, model } = tracedDeps(client, trace);
      await handleInboundPublish(deps, inboundPublish(user, [{ action: "chat", requestId: randomUUID(), conversationId, message }]) as never);
      expect(harness.outbound(user).filter((e) => e.type === "done")).toHaveLength(i + 1);
      expect(model.calledAfter).toBe(3);
      const byRound = (round: number) =>
        trace.requests
          .slice(0, model.requestsBefore)
          .filter((r) => r.round === round)
          .map((r) => r.command)
          .sort();
      expect(byRound(1)).toEqual(["PutItemCommand"]);
      // The sequence, the cancel record, history, the (speculative) cache lookup, the admission record.
      expect(byRound(2)).toEqual(["BatchGetItemCommand", "GetItemCommand", "GetItemCommand", "PutItemCommand", "QueryCommand"]);
      expect(byRound(3)).toEqual(["PutItemCommand"]);
      client.destroy();
    }
  });

  it("a turn whose claim sequence cannot be read ends with one internal_error, no model call and no cancel record left", async () => {
    const user = randomUUID();
    const { client, trace } = tracedClient({
      // The claim's sequence item lives in the idempotency table; only its read fails.
      fail: (command, input) => command === "GetItemCommand" && input.TableName === harness.idempotencyTable,
    });
    const { deps, model } = tracedDeps(client, trace);
    const requestId = randomUUID();
    await handleInboundPublish(deps, inboundPublish(user, [{ action: "chat", requestId, conversationId: randomUUID(), message: "Hi [[fake:tokens=3]]" }]) as never);
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "internal_error", requestId })]);
    expect(model.calledAfter).toBeUndefined();
    const { Items } = await DynamoDBDocumentClient.from(harness.dynamodb).send(
      new QueryCommand({ TableName: harness.conversationsTable, KeyConditionExpression: "user_id = :u", ExpressionAttributeValues: { ":u": user }, ConsistentRead: true }),
    );
    expect(Items).toEqual([]);
    client.destroy();
  });
});
