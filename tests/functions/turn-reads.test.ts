/**
 * A chat turn's reads started side by side (worker/turn-reads.ts) when one of them fails before
 * the turn gets to await it: the failure is the turn's one outcome, never an unhandled
 * rejection (which ends a Lambda runtime), and a turn abandoned for a failed sequence read
 * reports that read's failure.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RunningAnswers } from "../../functions/lib/cancel/runs.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { failingDynamoDb } from "../support/failing-dynamodb.js";
import { jsonLines, stdoutWhile } from "../support/stdout.js";
import { chatRequest, inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness(devLikeConfig());
});
afterAll(() => harness?.close());

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => void process.off("unhandledRejection", onUnhandled));

/** A cancel store whose run record cannot be written. */
const brokenCancels = () => new RunningAnswers({ dynamodb: failingDynamoDb("PutItemCommand", Infinity).client, tableName: harness.conversationsTable, runExpirySeconds: 360 });

/** Publishes one chat for a new user; what the user was sent and what the worker logged. */
async function chatWith(overrides: Partial<WorkerDeps>) {
  const deps = workerDeps(harness, { logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }), ...overrides });
  const user = randomUUID();
  const logs = jsonLines(await stdoutWhile(() => handleInboundPublish(deps, inboundPublish(user, [chatRequest("Hello")])), { stderr: true }));
  await new Promise((resolve) => setImmediate(resolve));
  return { events: harness.outbound(user), logs: logs.filter((l) => !("_aws" in l)) };
}

describe("a read that fails before the turn awaits it", () => {
  it("a run record that cannot be written: one internal_error, no unhandled rejection", async () => {
    const { events } = await chatWith({ cancels: brokenCancels() });
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "internal_error", seq: 0 })]);
    expect(unhandled).toEqual([]);
  });

  it("a history that cannot be read: one internal_error, no unhandled rejection", async () => {
    const conversations = new ConversationStore({ dynamodb: failingDynamoDb("QueryCommand", Infinity).client, tableName: harness.conversationsTable, ttlDays: 30 });
    const { events } = await chatWith({ conversations });
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "internal_error", seq: 0 })]);
    expect(unhandled).toEqual([]);
  });

  it("a sequence read that fails abandons the turn and reports that failure, even when the run record failed too", async () => {
    const claim = createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: failingDynamoDb("GetItemCommand", Infinity).client, expiresAfterSeconds: 3600 });
    const { events, logs } = await chatWith({ claim, cancels: brokenCancels() });
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "internal_error", seq: 0 })]);
    expect(logs.filter((l) => l.level === "ERROR")).toEqual([expect.objectContaining({ message: "request failed", error_name: "InternalServerError" })]);
    expect(unhandled).toEqual([]);
  });
});
