import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../functions/lib/config/load.js";
import { handleInboundPublish } from "../../functions/lib/worker/inbound.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { inboundPublish, startWorkerHarness, workerDeps, type WorkerHarness } from "../support/worker-harness.js";
import { printedWhile, stdoutWhile, withMessage } from "../support/stdout.js";

let harness: WorkerHarness;
beforeAll(async () => {
  harness = await startWorkerHarness(devLikeConfig());
});
afterAll(() => harness?.close());

/** What a DEBUG logger prints (to stdout, as in Lambda) while a chat is answered. */
async function chatWithPreviews(logPreviews: boolean) {
  const lines = await stdoutWhile(async () => {
    const base = loadGatewayConfig();
    const deps = workerDeps(harness, {
      logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }),
      config: { ...base, observability: { ...base.observability, logPreviews } },
    });
    await handleInboundPublish(deps, inboundPublish(randomUUID(), [{ requestId: randomUUID(), conversationId: randomUUID(), message: "the quokka question" }]));
  }, { passThrough: false });
  return lines.join("");
}

describe("prompt previews in logs", () => {
  it("appear only when the stack sets observability.logPreviews", async () => {
    expect(await chatWithPreviews(true)).toContain("the quokka question");
    expect(await chatWithPreviews(false)).not.toContain("quokka");
  });

  it("log the prompt's first 80 characters as `prompt preview` at INFO", async () => {
    const base = loadGatewayConfig();
    const deps = workerDeps(harness, {
      logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }),
      config: { ...base, observability: { ...base.observability, logPreviews: true } },
    });
    const message = `${"a quokka question ".repeat(5)}and the rest of it`;
    const { logs } = await printedWhile(() => handleInboundPublish(deps, inboundPublish(randomUUID(), [{ requestId: randomUUID(), conversationId: randomUUID(), message }])));
    expect(withMessage(logs, "prompt preview")).toEqual([expect.objectContaining({ level: "INFO", preview: message.slice(0, 80) })]);
  });
});
