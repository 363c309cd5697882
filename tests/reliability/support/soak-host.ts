/**
 * The soak test's gateway, in a process of its own so that its memory is the gateway's alone:
 * `npm start`'s startLocalGateway on free ports, with the dev stack's config and only what
 * the soak is not about lifted (tier limits and rates no soak user reaches, more worker
 * instances than users), so every turn is admitted; analytics stays on, as in dev, through
 * the local Firehose. Run with `--expose-gc`.
 *
 * Over IPC (stdout and stderr carry the functions' JSON logs, which the test reads) it sends what
 * clients need, then answers:
 *   { cmd: "memory" }  -> RSS and heap after a forced GC
 *   { cmd: "models" }  -> what the model server received and reported, per request
 *   { cmd: "forget" }  -> drops the servers' recordings (before measuring memory)
 *   { cmd: "analytics" } -> once the workers are idle and the local Firehose has written what
 *                       it buffered: its counts, and the Parquet's rows and distinct requests
 *   { cmd: "stop" }    -> stops everything and exits
 * and counts unhandled rejections and uncaught exceptions (reported with `memory`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { estimateInputTokens } from "../../../functions/lib/metering/estimate.js";
import { PROJECT_ROOT } from "../../../local/config.js";
import type { LocalFirehoseMetrics } from "../../../local/firehose/index.js";
import { startLocalGateway } from "../../../local/gateway.js";
import { readYamlFile } from "../../../local/stack-file.js";
import { runLocalSql } from "../../../tools/analytics/local-queries.js";

export const SOAK_STACK = "soak";
/** More worker instances than the soak has users and cancels at once. */
const SOAK_WORKER_CONCURRENCY = 80;

export interface ModelCallSummary {
  modelId: string;
  outcome: string;
  /** What the model server reported (absent when the stream was cut or failed). */
  usage?: { inputTokens: number; outputTokens: number };
  deltasSent: number;
  /** The output tokens the gateway allowed the call (inferenceConfig.maxTokens). */
  maxTokens: number;
  /** The last user message, directives included: it carries the turn's marker. */
  lastUserText: string;
  /** The gateway's documented input estimate of this call (what a cut stream is charged). */
  inputEstimate: number;
}

export interface AnalyticsFigures {
  metrics: LocalFirehoseMetrics;
  parquetRows: number;
  distinctRequests: number;
  parquetFiles: number;
}

export interface MemoryFigures {
  rssBytes: number;
  heapUsedBytes: number;
  /** Whether a GC was forced first (`--expose-gc`). */
  gcForced: boolean;
  unhandledRejections: number;
  uncaughtExceptions: number;
}

function writeSoakProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "gateway-soak-project-"));
  copyFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const stack = readYamlFile(join(PROJECT_ROOT, "Pulumi.dev.yaml")) as { config: Record<string, unknown> };
  const config = stack.config;
  config["ai-gateway:worker"] = { ...(config["ai-gateway:worker"] as object), reservedConcurrency: SOAK_WORKER_CONCURRENCY };
  if ((config["ai-gateway:analytics"] as { enabled?: boolean } | undefined)?.enabled !== true) throw new Error("the soak expects the dev stack's analytics on");
  for (const tier of Object.values(config["ai-gateway:tiers"] as Record<string, Record<string, unknown>>)) {
    tier.limits = { daily: { inputTokens: 1e9, outputTokens: 1e9 }, monthly: { inputTokens: 1e10, outputTokens: 1e10 } };
    tier.maxConcurrentRequests = 100;
    delete tier.requestsPerMinute;
  }
  writeFileSync(join(dir, `Pulumi.${SOAK_STACK}.yaml`), stringify(stack));
  return dir;
}

const textOf = (blocks: readonly { text?: string }[] | undefined) => (blocks ?? []).map((b) => b.text ?? "").join("");

async function main() {
  let unhandledRejections = 0;
  let uncaughtExceptions = 0;
  process.on("unhandledRejection", () => void unhandledRejections++);
  process.on("uncaughtException", () => void uncaughtExceptions++);

  const projectDir = writeSoakProject();
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-soak-state-"));
  const gateway = await startLocalGateway({ stack: SOAK_STACK, projectDir, stateDir, model: "fake", web: false });
  const reply = (value: unknown) => process.send!(value);
  const gc = (globalThis as { gc?: () => void }).gc;

  reply({
    endpoints: gateway.endpoints,
    ca: readFileSync(gateway.endpoints.events.caCertPath!, "utf8"),
    dynamodbEndpoint: gateway.dynamodb.endpoint,
    tables: gateway.dynamodb.tables,
    preparedPrompts: gateway.config.cache.prepared.filter((p) => p.modelId === undefined).map((p) => p.prompt),
    models: gateway.config.models.map((m) => m.id),
    tiers: Object.fromEntries(Object.entries(gateway.config.tiers).map(([name, tier]) => [name, tier.models])),
    pid: process.pid,
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await gateway.stop();
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(projectDir, { recursive: true, force: true });
      process.exit(0);
    })());

  process.on("message", (message: { cmd: string }) => {
    switch (message.cmd) {
      case "memory": {
        // Twice: the first pass can leave finalizable objects for the second.
        gc?.();
        gc?.();
        const { rss, heapUsed } = process.memoryUsage();
        reply({ rssBytes: rss, heapUsedBytes: heapUsed, gcForced: gc !== undefined, unhandledRejections, uncaughtExceptions } satisfies MemoryFigures);
        break;
      }
      case "models":
        reply(
          gateway.bedrock!.requests.map((r): ModelCallSummary => {
            const messages = (r.body?.messages ?? []).map((m) => ({ role: m.role, text: textOf(m.content) }));
            return {
              modelId: r.modelId,
              outcome: r.outcome,
              usage: r.usage,
              deltasSent: r.deltasSent,
              maxTokens: r.body?.inferenceConfig?.maxTokens ?? 0,
              lastUserText: messages.filter((m) => m.role === "user").at(-1)?.text ?? "",
              inputEstimate: estimateInputTokens(textOf(r.body?.system), messages),
            };
          }),
        );
        break;
      case "forget":
        gateway.bedrock!.reset();
        gateway.events.forgetPublished();
        reply("forgotten");
        break;
      case "analytics":
        void (async () => {
          // Each turn's record leaves after its final event: wait for the workers, then the buffer.
          await gateway.events.idle();
          const firehose = gateway.firehose!;
          await firehose.flush();
          const { rows } = await runLocalSql(firehose.dir, "SELECT count(*), count(DISTINCT request_id) FROM turns");
          reply({ metrics: firehose.metrics(), parquetRows: Number(rows[0]![0]), distinctRequests: Number(rows[0]![1]), parquetFiles: firehose.files.length } satisfies AnalyticsFigures);
        })().catch((err: Error) => reply({ error: `analytics figures failed: ${err.message}` }));
        break;
      case "stop":
        void stop();
        break;
    }
  });
  process.on("disconnect", () => void stop());
}

await main();
