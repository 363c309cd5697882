import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devLikeConfig } from "../support/config-fixtures.js";
import { inboundPublish, lambdaContext, REGION, startWorkerHarness, type WorkerHarness } from "../support/worker-harness.js";

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
      expect.objectContaining({ type: "error", code: "internal_error", requestId: first.requestId, conversationId: first.conversationId, details: { deadLettered: true, condition: "EventAgeExceeded" } }),
      expect.objectContaining({ type: "error", code: "internal_error", requestId: second.requestId }),
    ]);
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
