import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBedrockClient } from "../../functions/lib/bedrock/client.js";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { dynamoDbFromEnv, eventPublisherFromEnv } from "../../functions/lib/runtime.js";
import { DEADLINE_MARGIN_MS } from "../../functions/lib/worker/chat.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { inboundPublish, startWorkerHarness, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness(devLikeConfig());
});
afterAll(() => harness?.close());

function workerDeps() {
  return {
      config: loadGatewayConfig(),
      bedrock: createBedrockClient({ endpoint: harness.bedrock.url }),
      publisher: eventPublisherFromEnv(),
      claim: createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: dynamoDbFromEnv(), expiresAfterSeconds: 3600 }),
      logger: new Logger({ serviceName: "test", logLevel: "CRITICAL" }),
      metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
      modelIdleTimeoutMs: 300,
    };
}

describe("a model that stops answering", () => {
  it("is cut off after the idle timeout and reported as model_unavailable", async () => {
    const deps = workerDeps();
    const user = randomUUID();
    const request = { requestId: randomUUID(), conversationId: randomUUID(), message: "are you there? [[fake:fault=hang]]" };
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    const events = harness.outbound(user);
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "model_unavailable", requestId: request.requestId, seq: 0 })]);
    expect(harness.bedrock.requests.at(-1)!.outcome).not.toBe("completed");
  });
});

describe("an answer that would outlast the invocation", () => {
  it("is stopped before Lambda's deadline with one error event after the deltas it sent", async () => {
    const user = randomUUID();
    const request = { requestId: randomUUID(), conversationId: randomUUID(), message: "a long story [[fake:tokens=200,rate=20]]" };
    // 600 ms left once the safety margin is kept back.
    const deadline = Date.now() + DEADLINE_MARGIN_MS + 600;
    await handleInboundPublish(workerDeps(), inboundPublish(user, [request]), { remainingTimeMs: () => deadline - Date.now() });
    const events = harness.outbound(user);
    expect(events[0]).toMatchObject({ type: "start" });
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_unavailable", details: { reason: "deadline" } });
    expect(events.filter((e) => e.type === "error" || e.type === "done")).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    await harness.bedrock.idle();
    expect(harness.bedrock.requests.at(-1)!.outcome).toBe("client_aborted");
  });
});
