import type { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devLikeConfig } from "../support/config-fixtures.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { notifyDeadLetter } from "../../functions/lib/dead-letters.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import type { Publisher } from "../../functions/lib/relay/publisher.js";
import { inboundPublish, lambdaContext, REGION, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
let handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

beforeAll(async () => {
  harness = await startWorkerHarness(devLikeConfig());
  ({ handler } = (await import("../../functions/dlqConsumer.js")) as never);
});
afterAll(() => harness?.close());

/** What Lambda puts on an on-failure SQS destination for an async invocation. */
function onFailureRecord(requestPayload: unknown, condition = "EventAgeExceeded") {
  return {
    messageId: randomUUID(),
    receiptHandle: "handle",
    body: JSON.stringify({
      version: "1.0",
      timestamp: new Date().toISOString(),
      requestContext: { requestId: randomUUID(), functionArn: `arn:aws:lambda:${REGION}:123456789012:function:worker:$LATEST`, condition, approximateInvokeCount: 1 },
      requestPayload,
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
    }),
    attributes: {},
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:worker-failures`,
    awsRegion: REGION,
  };
}

describe("dead-letter notifier", () => {
  it("tells the user, per lost request, that it could not be processed", async () => {
    const user = randomUUID();
    const first = { action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message: "hi" };
    const second = { action: "models", requestId: randomUUID() };
    const result = await handler({ Records: [onFailureRecord(inboundPublish(user, [first, second]))] }, lambdaContext("dlq"));
    expect(result.batchItemFailures).toEqual([]);
    const events = harness.outbound(user);
    expect(events).toEqual([
      expect.objectContaining({ type: "error", code: "internal_error", requestId: first.requestId, conversationId: first.conversationId, details: { deadLettered: true, resend: "new_request_id", condition: "EventAgeExceeded" } }),
      expect.objectContaining({ type: "error", code: "internal_error", requestId: second.requestId }),
    ]);
  });

  it("reads a payload that AppSync handed over as a JSON string, as the worker does", async () => {
    const user = randomUUID();
    const request = { action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message: "hi" };
    await handler({ Records: [onFailureRecord(inboundPublish(user, [JSON.stringify(request)]))] }, lambdaContext("dlq"));
    expect(harness.outbound(user)).toEqual([
      expect.objectContaining({ type: "error", requestId: request.requestId, conversationId: request.conversationId, seq: 0 }),
    ]);
  });

  it("does not echo a request id longer than any the worker answers under", async () => {
    const user = randomUUID();
    const event = inboundPublish(user, [{ requestId: "r".repeat(101), conversationId: "c".repeat(101) }]);
    await handler({ Records: [onFailureRecord(event)] }, lambdaContext("dlq"));
    const [notice] = harness.outbound(user);
    expect(notice).toMatchObject({ type: "error", requestId: event.events[0]!.id });
    expect(notice).not.toHaveProperty("conversationId");
  });

  it("tells the user to resend as a new request, which is answered while the lost attempt still holds its id", async () => {
    const deps = workerDeps(harness);
    const user = randomUUID();
    const lostRequest = { requestId: randomUUID(), conversationId: randomUUID(), message: "lost" };
    // A worker that crashed mid-answer: its claim stays in progress until the invocation's timeout.
    let crash!: () => void;
    const crashed = deps.claim.runOnce({ sub: user, requestId: lostRequest.requestId }, () => new Promise((_, reject) => (crash = () => reject(new Error("crashed")))));
    await new Promise((r) => setTimeout(r, 200));
    try {
      await handler({ Records: [onFailureRecord(inboundPublish(user, [lostRequest]), "RetriesExhausted")] }, lambdaContext("dlq"));
      const [notice] = harness.outbound(user);
      expect(notice).toMatchObject({ type: "error", code: "internal_error", requestId: lostRequest.requestId, details: { deadLettered: true, resend: "new_request_id" } });
      if (notice?.type !== "error") throw new Error("expected an error");
      expect(notice.message).toMatch(/new request/);

      // What the notice says works: a new requestId after retryAfterSeconds is answered...
      await new Promise((r) => setTimeout(r, notice.retryAfterSeconds! * 1000));
      const resent = { ...lostRequest, requestId: randomUUID() };
      await handleInboundPublish(deps, inboundPublish(user, [resent]));
      expect(harness.outbound(user).filter((e) => e.requestId === resent.requestId).at(-1)).toMatchObject({ type: "done" });
      // ...while the lost id is still held, so a resend under it gets nothing.
      const before = harness.outbound(user).length;
      await handleInboundPublish(deps, inboundPublish(user, [lostRequest]));
      expect(harness.outbound(user).length).toBe(before);
    } finally {
      crash();
      await crashed.catch(() => undefined);
    }
  });

  it("drops a record it cannot attribute to a user without failing the batch", async () => {
    const before = harness.events.published.length;
    const garbage = { ...onFailureRecord({}), body: "not json" };
    const anonymous = onFailureRecord({ ...inboundPublish("x", [{}]), identity: null });
    const result = await handler({ Records: [garbage, anonymous] }, lambdaContext("dlq"));
    expect(result.batchItemFailures).toEqual([]);
    expect(harness.events.published.length).toBe(before);
  });

  it("reports a record back to SQS when the user could not be told", async () => {
    const endpoint = process.env.EVENTS_HTTP_ENDPOINT;
    await harness.events.close();
    try {
      const record = onFailureRecord(inboundPublish(randomUUID(), [{ requestId: randomUUID() }]));
      const result = await handler({ Records: [record] }, lambdaContext("dlq"));
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    } finally {
      process.env.EVENTS_HTTP_ENDPOINT = endpoint;
    }
  });
});

describe("dead-letter notifier, unit", () => {
  function recording() {
    const lines: { level: string; message: string; attributes?: unknown }[] = [];
    const at = (level: string) => (message: string, attributes?: unknown) => void lines.push({ level, message, attributes });
    const logger = { error: at("error"), warn: at("warn"), info: at("info") } as unknown as Logger;
    const publishes: { channel: string; events: readonly OutboundEvent[] }[] = [];
    const publisher: Publisher = { publish: async (channel, events) => void publishes.push({ channel, events }) };
    return { logger, lines, publisher, publishes };
  }
  const record = (payload: unknown, requestContext?: unknown) => JSON.stringify({ ...(requestContext !== undefined ? { requestContext } : {}), requestPayload: payload });

  it("publishes one error per lost request in publishes of at most five, and logs who was told and why", async () => {
    const { logger, lines, publisher, publishes } = recording();
    const user = randomUUID();
    const requests = Array.from({ length: 10 }, () => ({ action: "models", requestId: randomUUID() }));
    await notifyDeadLetter(record(inboundPublish(user, requests), { condition: "RetriesExhausted" }), publisher, logger);
    expect(publishes.map((p) => [p.channel, p.events.length])).toEqual([
      [`/Outbound-Messages/${user}`, 5],
      [`/Outbound-Messages/${user}`, 5],
    ]);
    expect(publishes.flatMap((p) => p.events.map((e) => e.requestId))).toEqual(requests.map((r) => r.requestId));
    expect(publishes[0]!.events[0]).toMatchObject({ type: "error", seq: 0, details: { condition: "RetriesExhausted" } });
    expect(lines).toEqual([{ level: "warn", message: "told the user about a dead-lettered request", attributes: { user_id: user, condition: "RetriesExhausted", events: 10 } }]);
  });

  it("reads a record without a request context, naming no condition", async () => {
    const { logger, lines, publisher, publishes } = recording();
    const user = randomUUID();
    await notifyDeadLetter(record(inboundPublish(user, [{ action: "models", requestId: "r1" }])), publisher, logger);
    expect(publishes[0]!.events[0]).toMatchObject({ details: { deadLettered: true, resend: "new_request_id" } });
    expect((publishes[0]!.events[0] as { details: object }).details).not.toHaveProperty("condition");
    expect(lines[0]).toMatchObject({ level: "warn", attributes: { user_id: user, condition: undefined, events: 1 } });
  });

  it("drops what is not JSON or names no Cognito caller, saying which, and publishes nothing", async () => {
    const { logger, lines, publisher, publishes } = recording();
    await notifyDeadLetter("{not json", publisher, logger);
    await notifyDeadLetter(JSON.stringify({ requestContext: { condition: "EventAgeExceeded" } }), publisher, logger);
    await notifyDeadLetter(JSON.stringify({}), publisher, logger);
    expect(publishes).toEqual([]);
    expect(lines).toEqual([
      { level: "error", message: "dead letter is not JSON; dropped", attributes: undefined },
      { level: "error", message: "dead letter without a Cognito caller; dropped", attributes: { condition: "EventAgeExceeded" } },
      { level: "error", message: "dead letter without a Cognito caller; dropped", attributes: { condition: undefined } },
    ]);
  });
});
