import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { failingDynamoDb } from "../support/failing-dynamodb.js";
import { atLevel, printedWhile } from "../support/stdout.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness(devLikeConfig());
});
afterAll(() => harness?.close());
beforeEach(() => harness.bedrock.reset());

/** The worker with an idempotency store whose `command` fails `times` times; `logger` to read its log. */
function depsWithFailing(command: Parameters<typeof failingDynamoDb>[0], times: number, logger?: Logger) {
  const store = failingDynamoDb(command, times);
  const claim = createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: store.client, expiresAfterSeconds: 3600 });
  return { deps: workerDeps(harness, { claim, ...(logger ? { logger } : {}) }), store };
}

/** Lets the claim and the turn know the invocation ends `inMs` from now; returns the turn's Invocation. */
function invocationEndingIn(deps: ReturnType<typeof depsWithFailing>["deps"], inMs: number) {
  const deadline = Date.now() + inMs;
  deps.claim.registerLambdaContext({ getRemainingTimeInMillis: () => deadline - Date.now() } as never);
  return { deadline, invocation: { remainingTimeMs: () => deadline - Date.now() } };
}

const chat = (message: string) => ({ requestId: randomUUID(), conversationId: randomUUID(), message });
const finals = (events: OutboundEvent[]) => events.filter((e) => e.type !== "start" && e.type !== "delta");

describe("when the idempotency store fails after the work ran", () => {
  it("sends one final event when recording the result fails, and answers a resend with that event", async () => {
    const { deps, store } = depsWithFailing("UpdateItemCommand", 1);
    const user = randomUUID();
    const request = chat("record me");
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    expect(store.failed).toEqual(["UpdateItemCommand"]);
    const first = harness.outbound(user);
    expect(first[0]).toMatchObject({ type: "start" });
    expect(finals(first)).toEqual([expect.objectContaining({ type: "done" })]);

    // The result was recorded after all: the resend is told how the request ended, not ignored.
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    expect(harness.outbound(user).slice(first.length)).toEqual([first.at(-1)]);
    expect(harness.bedrock.requests).toHaveLength(1);
  });

  it("still sends exactly one final event when the result cannot be recorded at all", async () => {
    const { deps } = depsWithFailing("UpdateItemCommand", Infinity);
    const user = randomUUID();
    await handleInboundPublish(deps, inboundPublish(user, [chat("never recorded")]));
    const events = harness.outbound(user);
    expect(finals(events)).toEqual([expect.objectContaining({ type: "done" })]);
  });

  it("reports a retryable failure as such when releasing the claim fails once, and the documented retry works", async () => {
    const { deps, store } = depsWithFailing("DeleteItemCommand", 1);
    const user = randomUUID();
    const request = chat("busy?");
    harness.bedrock.configure({ fault: "throttle" });
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    expect(store.failed).toEqual(["DeleteItemCommand"]);
    const first = harness.outbound(user);
    expect(first).toEqual([expect.objectContaining({ type: "error", code: "model_throttled", seq: 0, retryAfterSeconds: 5 })]);

    harness.bedrock.configure({ fault: null });
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    const retried = harness.outbound(user).slice(1);
    expect(retried[0]).toMatchObject({ type: "start", seq: 1 });
    expect(retried.at(-1)).toMatchObject({ type: "done" });
  });

  it("asks the client to wait until the claim lapses when it cannot be released at all", async () => {
    const { deps } = depsWithFailing("DeleteItemCommand", Infinity);
    const user = randomUUID();
    const request = chat("busy for long?");
    harness.bedrock.configure({ fault: "throttle" });
    // The invocation has 20 s left, so the unreleased claim lapses in about 20 s.
    const { invocation } = invocationEndingIn(deps, 20_000);
    await handleInboundPublish(deps, inboundPublish(user, [request]), invocation);
    const [error] = harness.outbound(user);
    expect(harness.outbound(user)).toHaveLength(1);
    expect(error).toMatchObject({ type: "error", code: "model_throttled" });
    if (error?.type !== "error") throw new Error("expected an error");
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(19);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(20);
  });

  it("answers a claim the store could not take with one internal_error and no model call", async () => {
    const { deps } = depsWithFailing("PutItemCommand", Infinity);
    const user = randomUUID();
    await handleInboundPublish(deps, inboundPublish(user, [chat("no claim")]));
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "internal_error", seq: 0 })]);
    expect(harness.bedrock.requests).toHaveLength(0);
  });

  it("keeps the model's own retry delay when the unreleased claim lapses sooner", async () => {
    const { deps } = depsWithFailing("DeleteItemCommand", Infinity);
    const user = randomUUID();
    harness.bedrock.configure({ fault: "throttle" });
    // The claim lapses with the invocation, in about 2 s; a throttled model asks for 5 s.
    invocationEndingIn(deps, 2_000);
    await handleInboundPublish(deps, inboundPublish(user, [chat("busy briefly?")]));
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "model_throttled", retryAfterSeconds: 5 })]);
  });
});

describe("the log of a request whose end could not be written", () => {
  const logger = () => new Logger({ serviceName: "test", logLevel: "DEBUG" });

  it("names the failed stage and the error, with no held_until, when the result could not be recorded", async () => {
    const { deps } = depsWithFailing("UpdateItemCommand", Infinity, logger());
    const user = randomUUID();
    const { logs } = await printedWhile(() => handleInboundPublish(deps, inboundPublish(user, [chat("unrecorded")])));
    expect(finals(harness.outbound(user))).toEqual([expect.objectContaining({ type: "done" })]);
    const errors = atLevel(logs, "ERROR");
    expect(errors).toEqual([
      expect.objectContaining({ message: "could not write the request's end to the idempotency store", stage: "record", error_name: "InternalServerError" }),
    ]);
    expect(errors[0]).not.toHaveProperty("held_until");
  });

  it("says until when the request id stays claimed when the claim could not be released", async () => {
    const { deps } = depsWithFailing("DeleteItemCommand", Infinity, logger());
    const user = randomUUID();
    harness.bedrock.configure({ fault: "throttle" });
    const { deadline, invocation } = invocationEndingIn(deps, 20_000);
    const { logs } = await printedWhile(() => handleInboundPublish(deps, inboundPublish(user, [chat("held")]), invocation));
    const errors = atLevel(logs, "ERROR");
    expect(errors).toEqual([
      expect.objectContaining({ message: "could not write the request's end to the idempotency store", stage: "release", error_name: "InternalServerError", held_until: expect.any(String) }),
    ]);
    // The claim lapses when the invocation ends.
    expect(Math.abs(Date.parse(errors[0]!.held_until as string) - deadline)).toBeLessThan(1000);
  });
});
