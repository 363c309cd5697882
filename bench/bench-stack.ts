/**
 * The stack the gateway benchmarks run: dev's config, with the worker's concurrency above the
 * benchmark's users (dev reserves 5, so 20 users would measure Lambda's queue, not the
 * gateway) and tier limits that a few hundred turns per user never reach (metering must
 * admit every turn: the figures are about latency, not refusals).
 */
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { PROJECT_ROOT } from "../local/config.js";
import { readYamlFile } from "../local/stack-file.js";

export const BENCH_STACK = "bench";
export const BENCH_WORKER_CONCURRENCY = 64;

/** Writes Pulumi.yaml and Pulumi.bench.yaml into a new directory; returns it. */
export function writeBenchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "gateway-bench-project-"));
  copyFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const stack = readYamlFile(join(PROJECT_ROOT, "Pulumi.dev.yaml")) as { config: Record<string, unknown> };
  const config = stack.config;
  const worker = (config["ai-gateway:worker"] ?? {}) as Record<string, unknown>;
  config["ai-gateway:worker"] = { ...worker, reservedConcurrency: BENCH_WORKER_CONCURRENCY };
  const tiers = config["ai-gateway:tiers"] as Record<string, Record<string, unknown>>;
  for (const tier of Object.values(tiers)) {
    tier.limits = { daily: { inputTokens: 1e9, outputTokens: 1e9 }, monthly: { inputTokens: 1e10, outputTokens: 1e10 } };
    tier.maxConcurrentRequests = 100;
    delete tier.requestsPerMinute;
  }
  writeFileSync(join(dir, `Pulumi.${BENCH_STACK}.yaml`), stringify(stack));
  return dir;
}
