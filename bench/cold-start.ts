/**
 * Cold start: each function bundle as deployed (esbuild with the program's own options, the AWS
 * SDK included, minified) and the time a fresh Node process takes to import it, which is the
 * module-init part of a Lambda cold start, beside an empty handler bundled the same way.
 * Bundles are imported in rounds, one entry after the other, so a burst of load elsewhere on
 * the machine hits every entry alike; the median of the rounds is reported.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type Metafile } from "esbuild";
import { BUNDLE_FILE, bundleOptions, configForFunctions } from "../components/lib/bundle.js";
import { BUNDLED_CONFIG_FILE } from "../functions/lib/config/load.js";
import { ENV } from "../functions/lib/env.js";
import { readStackConfig } from "../local/config.js";
import { median } from "./stats.js";

export const COLD_START_ENTRIES = [
  { name: "empty handler", entry: "bench/fixtures/empty-handler.ts" },
  { name: "subscribe authorizer", entry: "functions/onSubscribe.ts" },
  { name: "chat worker", entry: "functions/chatWorker.ts" },
  { name: "dead-letter consumer", entry: "functions/dlqConsumer.ts" },
] as const;

/**
 * What Lambda and the program set: the handlers build their clients at import. Every name the
 * program gives the worker is set (analytics on, so the Firehose client is built too, as in a
 * stack with `analytics.enabled`; the guardrail's two names are plain strings and cost nothing).
 */
const LAMBDA_ENV = {
  PATH: process.env.PATH ?? "",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDBENCH",
  AWS_SECRET_ACCESS_KEY: "bench-secret",
  AWS_SESSION_TOKEN: "bench-session",
  [ENV.eventsHttpEndpoint]: "https://example.appsync-api.us-east-1.amazonaws.com/event",
  [ENV.idempotencyTable]: "idempotency-bench",
  [ENV.usageTable]: "usage-bench",
  [ENV.conversationsTable]: "conversations-bench",
  [ENV.cacheTable]: "cache-bench",
  [ENV.analyticsStream]: "analytics-bench",
  [ENV.stack]: "bench",
  [ENV.serviceName]: "bench",
  [ENV.metricsNamespace]: "AiGateway/bench",
  [ENV.logLevel]: "INFO",
};

const RUNNER = `
const cpu = process.cpuUsage();
const started = performance.now();
await import("./${BUNDLE_FILE}");
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 }));
`;

export interface BundleFigures {
  name: string;
  entry: string;
  bytes: number;
  /**
   * Median CPU time of the import. Module init is synchronous work, so on a quiet machine it
   * equals the wall time; on a loaded one the wall time also counts waiting for a core.
   */
  initMs: number;
  /** Median wall time of the import, and every round's figures. */
  initWallMs: number;
  rounds: { cpuMs: number; wallMs: number }[];
  /** The packages (or project folders) that take the most bytes of the minified bundle. */
  largestParts: { part: string; bytes: number }[];
}

export async function benchColdStart(options: { rounds?: number } = {}): Promise<BundleFigures[]> {
  const rounds = options.rounds ?? 9;
  const { config } = readStackConfig({ stack: "dev" });
  const workDir = mkdtempSync(join(tmpdir(), "gateway-cold-start-"));
  try {
    const bundles = [];
    for (const fn of COLD_START_ENTRIES) {
      const result = await build({ ...bundleOptions(fn.entry), metafile: true });
      const output = result.outputFiles.find((f) => f.path.endsWith(BUNDLE_FILE))!;
      const dir = join(workDir, fn.name.replaceAll(" ", "-"));
      mkdirSync(dir);
      writeFileSync(join(dir, BUNDLE_FILE), output.contents);
      writeFileSync(join(dir, BUNDLED_CONFIG_FILE), JSON.stringify(configForFunctions(config)));
      writeFileSync(join(dir, "runner.mjs"), RUNNER);
      bundles.push({ ...fn, dir, bytes: output.contents.byteLength, metafile: result.metafile! });
    }
    const samples = new Map<string, { cpuMs: number; wallMs: number }[]>(bundles.map((b) => [b.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const b of bundles) samples.get(b.name)!.push(await importOnce(b.dir));
    }
    return bundles.map((b) => ({
      name: b.name,
      entry: b.entry,
      bytes: b.bytes,
      initMs: median(samples.get(b.name)!.map((s) => s.cpuMs)),
      initWallMs: median(samples.get(b.name)!.map((s) => s.wallMs)),
      rounds: samples.get(b.name)!,
      largestParts: largestParts(b.metafile),
    }));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Imports a bundle in a fresh Node process, as Lambda's runtime does; returns the import's ms. */
function importOnce(dir: string): Promise<{ cpuMs: number; wallMs: number }> {
  return new Promise((resolve, reject) => {
    // --no-warnings: Lambda runs Node 22, where the SDK emits no Node-version warning at import.
    execFile(process.execPath, ["--no-warnings", "runner.mjs"], { cwd: dir, env: LAMBDA_ENV, timeout: 60_000 }, (err, stdout, stderr) => {
      // The first lines of a minified bundle's stack are the bundle itself: report the error line only.
      if (err) return reject(new Error(`importing ${dir} failed: ${stderr.split("\n").filter((l) => /^\w*Error\b/.test(l)).slice(0, 3).join(" | ").slice(0, 500) || stderr.slice(-500)}`));
      resolve(JSON.parse(stdout) as { cpuMs: number; wallMs: number });
    });
  });
}

/** Output bytes per npm package (or per project folder), largest first. */
function largestParts(metafile: Metafile, count = 6): { part: string; bytes: number }[] {
  const parts = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      const part = pkg ?? path.split("/").slice(0, 3).join("/");
      parts.set(part, (parts.get(part) ?? 0) + input.bytesInOutput);
    }
  }
  return [...parts].sort((a, b) => b[1] - a[1]).slice(0, count).map(([part, bytes]) => ({ part, bytes }));
}
