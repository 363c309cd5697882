/**
 * What an operator sees of the chat worker's requests (inbound.ts): the log line each outcome
 * writes (message, level, fields), the InboundEvents metric, and what duplicates are told.
 */
import { Metrics } from "@aws-lambda-powertools/metrics";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import type { WorkerDeps } from "../../functions/lib/worker/deps.js";
import { createRequestClaim } from "../../functions/lib/worker/request-claim.js";
import { failingDynamoDb } from "../support/failing-dynamodb.js";
import { atLevel, printedWhile, withMessage } from "../support/stdout.js";
import { chatRequest, inboundPublish, startReportingWorker, type WorkerHarness } from "../support/worker-harness.js";

let harness: WorkerHarness;
let deps: WorkerDeps;
beforeAll(async () => {
  ({ harness, deps } = await startReportingWorker());
});
afterAll(() => harness?.close());

/** The log lines a publish of `payloads` by `user` wrote (DEBUG and up). */
async function logsOf(user: string, payloads: unknown[], using: WorkerDeps = deps, options?: Parameters<typeof inboundPublish>[2]) {
  return (await printedWhile(() => handleInboundPublish(using, inboundPublish(user, payloads, options)))).logs;
}

describe("refusals and failures in the log", () => {
  it("logs a refused request as `request refused` with its code at INFO, and nothing at ERROR", async () => {
    const user = randomUUID();
    const request = chatRequest("Hello");
    const logs = await logsOf(user, [request], deps, { channelSub: randomUUID() });
    expect(harness.outbound(user)).toEqual([
      expect.objectContaining({ type: "error", code: "unauthorized", message: "You can only publish to your own inbound channel." }),
    ]);
    expect(withMessage(logs, "request refused")).toEqual([expect.objectContaining({ level: "INFO", code: "unauthorized", request_id: request.requestId, user_id: user })]);
    expect(atLevel(logs, "ERROR")).toEqual([]);
  });

  it("logs a request the worker could not take on as `request failed` with the error's name, never its message", async () => {
    const store = failingDynamoDb("PutItemCommand", Infinity);
    const claim = createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: store.client, expiresAfterSeconds: 3600 });
    const user = randomUUID();
    const logs = await logsOf(user, [chatRequest("Claim me")], { ...deps, claim });
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "internal_error" })]);
    expect(atLevel(logs, "ERROR")).toEqual([expect.objectContaining({ message: "request failed", error_name: "IdempotencyPersistenceLayerError" })]);
    expect(JSON.stringify(logs)).not.toContain("store unavailable");
    expect(withMessage(logs, "request refused")).toEqual([]);
  });

  it("logs a request whose claimed sequence could not be read as `request failed` with the store error's name", async () => {
    const store = failingDynamoDb("GetItemCommand", 1);
    const claim = createRequestClaim({ tableName: harness.idempotencyTable, dynamodb: store.client, expiresAfterSeconds: 3600 });
    const user = randomUUID();
    const logs = await logsOf(user, [{ action: "models", requestId: randomUUID() }], { ...deps, claim });
    expect(store.failed).toEqual(["GetItemCommand"]);
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "internal_error", seq: 0 })]);
    expect(atLevel(logs, "ERROR")).toEqual([expect.objectContaining({ message: "request failed", error_name: "InternalServerError" })]);
  });

  it("logs an action that failed inside as `action failed` with the error's name, and a refused action at no ERROR", async () => {
    const broken = { ...deps, conversations: new ConversationStore({ dynamodb: harness.dynamodb, tableName: "no-such-table", ttlDays: 30 }) };
    const user = randomUUID();
    const failed = await logsOf(user, [{ action: "conversations", requestId: randomUUID() }], broken);
    expect(harness.outbound(user)).toEqual([expect.objectContaining({ type: "error", code: "internal_error" })]);
    expect(atLevel(failed, "ERROR")).toEqual([expect.objectContaining({ message: "action failed", error_name: "ResourceNotFoundException" })]);
    expect(JSON.stringify(failed)).not.toContain("non-existent table");

    const refused = await logsOf(user, [{ action: "conversations", requestId: randomUUID(), cursor: "bm90LWEtY3Vyc29y" }]);
    expect(harness.outbound(user).at(-1)).toMatchObject({ type: "error", code: "invalid_request" });
    expect(atLevel(refused, "ERROR")).toEqual([]);
  });

  it("refuses a publish without a Cognito user with one ERROR line naming the channel, cut at 300 characters", async () => {
    const segments = ["Inbound-Messages", "x".repeat(400)];
    const before = harness.events.published.length;
    const logs = await logsOf("*", [chatRequest("Hello everyone")], deps, { segments });
    expect(harness.events.published.slice(before)).toEqual([]);
    expect(atLevel(logs, "ERROR")).toEqual([
      expect.objectContaining({ message: "inbound publish without a Cognito user; refused", channel: `/${segments.join("/")}`.slice(0, 300) }),
    ]);
  });
});

describe("the InboundEvents metric", () => {
  it("counts the events of each publish, and a publish without events as 0, answering nothing", async () => {
    const user = randomUUID();
    const counted = async (event: ReturnType<typeof inboundPublish>) => {
      const metrics = new Metrics({ namespace: "Test", serviceName: "test" });
      const printed = await printedWhile(async () => {
        await handleInboundPublish({ ...deps, metrics }, event);
        // What the handler's middleware does once the invocation ends.
        metrics.publishStoredMetrics();
      });
      return printed.metrics.filter((line) => "InboundEvents" in line).map((line) => line.InboundEvents);
    };
    const models = () => ({ action: "models", requestId: randomUUID() });
    expect(await counted(inboundPublish(user, [models(), models(), models()]))).toEqual([3]);
    expect(harness.outbound(user)).toHaveLength(3);
    expect(await counted({ ...inboundPublish(user, []), events: null } as never)).toEqual([0]);
    expect(harness.outbound(user)).toHaveLength(3);
  });
});

describe("duplicates in the log", () => {
  it("replays the final event to a duplicate of a finished request, and logs it with replayed: true", async () => {
    const user = randomUUID();
    const request = chatRequest("Once [[fake:tokens=3]]");
    await handleInboundPublish(deps, inboundPublish(user, [request]));
    const answered = harness.outbound(user);
    const logs = await logsOf(user, [request]);
    expect(harness.outbound(user).slice(answered.length)).toEqual([answered.at(-1)]);
    expect(withMessage(logs, "duplicate of a finished request")).toEqual([expect.objectContaining({ level: "INFO", replayed: true })]);
  });

  it("does not replay a history or conversations listing to a duplicate (no conversation text is kept), and logs replayed: false", async () => {
    const user = randomUUID();
    const conversationId = randomUUID();
    await handleInboundPublish(deps, inboundPublish(user, [chatRequest("Remember me", { conversationId })]));
    for (const listing of [{ action: "history", requestId: randomUUID(), conversationId }, { action: "conversations", requestId: randomUUID() }]) {
      await handleInboundPublish(deps, inboundPublish(user, [listing]));
      const answered = harness.outbound(user);
      expect(answered.at(-1)).toMatchObject({ type: listing.action, requestId: listing.requestId });
      const logs = await logsOf(user, [listing]);
      expect(harness.outbound(user)).toHaveLength(answered.length);
      expect(withMessage(logs, "duplicate of a finished request")).toEqual([expect.objectContaining({ replayed: false })]);
      expect(atLevel(logs, "ERROR")).toEqual([]);
    }
  });

  it("leaves a duplicate of a request still being answered to the original, and logs it as such", async () => {
    const user = randomUUID();
    const request = chatRequest("Slowly [[fake:tokens=10,delay=1000]]");
    const original = handleInboundPublish(deps, inboundPublish(user, [request]));
    await harness.bedrock.waitForRequests(harness.bedrock.requests.length + 1);
    const logs = await logsOf(user, [request]);
    await original;
    expect(withMessage(logs, "duplicate of a request still being answered")).toEqual([expect.objectContaining({ level: "INFO" })]);
    expect(withMessage(logs, "duplicate of a finished request")).toEqual([]);
    expect(harness.outbound(user).filter((e) => e.type === "done")).toHaveLength(1);
  });
});

describe("the stack's relay settings", () => {
  it("coalesce an answer's deltas for relay.flushIntervalMs: with a long interval, the first delta goes alone and the rest with done", async () => {
    const base = loadGatewayConfig();
    const slowFlush = { ...deps, config: { ...base, relay: { ...base.relay, flushIntervalMs: 10_000 } } };
    const user = randomUUID();
    // 24 tokens 10 ms apart: far inside one flush interval.
    await handleInboundPublish(slowFlush, inboundPublish(user, [chatRequest("Trickle [[fake:tokens=24,rate=100]]")]));
    expect(harness.outbound(user).map((e) => e.type)).toEqual(["start", "delta", "delta", "done"]);
  });
});
