import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBedrockClient } from "../../functions/lib/bedrock/client.js";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { dynamoDbFromEnv, eventPublisherFromEnv } from "../../functions/lib/runtime.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { inboundPublish, startWorkerHarness, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness(devLikeConfig());
});
afterAll(() => harness?.close());

describe("a model that stops answering", () => {
  it("is cut off after the idle timeout and reported as model_unavailable", async () => {
    const deps = {
      config: loadGatewayConfig(),
      bedrock: createBedrockClient({ endpoint: harness.bedrock.url }),
      publisher: eventPublisherFromEnv(),
      claim: createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: dynamoDbFromEnv(), expiresAfterSeconds: 3600 }),
      logger: new Logger({ serviceName: "test", logLevel: "CRITICAL" }),
      metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
      modelIdleTimeoutMs: 300,
    };
    const user = randomUUID();
    const request = { requestId: randomUUID(), conversationId: randomUUID(), message: "are you there? [[fake:fault=hang]]" };
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    const events = harness.outbound(user);
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "model_unavailable", requestId: request.requestId, seq: 0 })]);
    expect(harness.bedrock.requests.at(-1)!.outcome).not.toBe("completed");
  });
});
