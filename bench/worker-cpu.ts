/**
 * The chat worker's own cost per turn, which is what Lambda bills: the deployed bundle
 * (bundleEntry, as `pulumi up` builds it) imported in a fresh Node process of its own,
 * answering turns one at a time against the benchmark gateway's model server, DynamoDB Local
 * and Events server, with `process.cpuUsage()` and the wall clock around each invocation.
 * Nothing else runs in that process, so its CPU time is the worker's alone.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLE_FILE, bundleEntry } from "../components/lib/bundle.js";
import { BUNDLED_CONFIG_FILE } from "../functions/lib/config/load.js";
import { ENV } from "../functions/lib/env.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE } from "../functions/lib/tables.js";
import { LOCAL_CREDENTIALS } from "../local/dynamodb.js";
import { lambdaContext } from "../local/lambda.js";
import { PACING, promptFor, type GatewayHost } from "./gateway.js";
import { median, percentile } from "./stats.js";

const RUNNER = `
import { readFileSync } from "node:fs";
const { events, context } = JSON.parse(readFileSync("./events.json", "utf8"));
const { handler } = await import("./${BUNDLE_FILE}");
const turns = [];
for (const event of events) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await handler(event, { ...context, getRemainingTimeInMillis: () => 300000 });
  const used = process.cpuUsage(cpu);
  turns.push({ cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started });
}
process.stdout.write("\\n" + JSON.stringify(turns) + "\\n");
`;

/** An inbound publish as AppSync Events hands it to the worker (DIRECT, EVENT invoke). */
function inboundPublish(sub: string, message: string) {
  return {
    identity: { sub, issuer: "http://localhost/local_pool", username: sub, claims: { sub, client_id: "bench", token_use: "access" }, sourceIp: ["127.0.0.1"], defaultAuthStrategy: "ALLOW", groups: null },
    info: { channel: { path: `/Inbound-Messages/${sub}`, segments: ["Inbound-Messages", sub] }, channelNamespace: { name: "Inbound-Messages" }, operation: "PUBLISH" },
    request: { headers: { authorization: "bench-token" }, domainName: null },
    events: [{ id: randomUUID(), payload: { action: "chat", requestId: randomUUID(), conversationId: randomUUID(), message } }],
    stash: {},
    outErrors: [],
  };
}

export interface WorkerCostFigures {
  turns: number;
  /** Lambda bills duration; CPU is the part of it the function itself works. */
  cpuMsPerTurn: { p50: number; p99: number; mean: number };
  wallMsPerTurn: { p50: number; p99: number };
  answerTokens: number;
}

export async function benchWorkerCost(host: GatewayHost, options: { turns?: number; warmup?: number; cpuProfileDir?: string } = {}): Promise<WorkerCostFigures> {
  const turns = options.turns ?? 30;
  const warmup = options.warmup ?? 5;
  const dir = mkdtempSync(join(tmpdir(), "gateway-worker-cost-"));
  try {
    writeFileSync(join(dir, BUNDLE_FILE), await bundleEntry("functions/chatWorker.ts"));
    writeFileSync(join(dir, BUNDLED_CONFIG_FILE), readFileSync(host.configPath, "utf8"));
    writeFileSync(join(dir, "runner.mjs"), RUNNER);
    const sub = randomUUID();
    const message = promptFor(PACING);
    const events = Array.from({ length: warmup + turns }, () => inboundPublish(sub, message));
    writeFileSync(join(dir, "events.json"), JSON.stringify({ events, context: lambdaContext("chat-worker") }));
    const env = {
      PATH: process.env.PATH ?? "",
      AWS_REGION: host.endpoints.region,
      // As in Lambda, the role's keys sign everything: here the host's Events key (DynamoDB Local takes any).
      AWS_ACCESS_KEY_ID: host.eventsKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: host.eventsKey.secretAccessKey,
      [ENV.eventsHttpEndpoint]: host.eventsPlainHttpEndpoint,
      [ENV.idempotencyTable]: host.dynamodb.tables[IDEMPOTENCY_TABLE.name]!,
      [ENV.usageTable]: host.dynamodb.tables[USAGE_TABLE.name]!,
      [ENV.conversationsTable]: host.dynamodb.tables[CONVERSATIONS_TABLE.name]!,
      [ENV.cacheTable]: host.dynamodb.tables[CACHE_TABLE.name]!,
      [ENV.dynamodbEndpoint]: host.dynamodb.endpoint,
      [ENV.bedrockEndpoint]: host.bedrockUrl,
      [ENV.stack]: "bench",
      POWERTOOLS_METRICS_NAMESPACE: "AiGateway/bench",
      // Lambda's default log level; the lines go to /dev/null here as they go to CloudWatch there.
      POWERTOOLS_LOG_LEVEL: "INFO",
    };
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [...(options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : []), "--no-warnings", "runner.mjs"], { cwd: dir, env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
        err ? reject(new Error(`worker cost run failed: ${stderr.slice(0, 500)}`)) : resolve(stdout),
      ),
    );
    const measured = (JSON.parse(output.trim().split("\n").pop()!) as { cpuMs: number; wallMs: number }[]).slice(warmup);
    const cpu = measured.map((t) => t.cpuMs);
    const wall = measured.map((t) => t.wallMs);
    return {
      turns: measured.length,
      cpuMsPerTurn: { p50: median(cpu), p99: percentile(cpu, 99), mean: cpu.reduce((a, b) => a + b, 0) / cpu.length },
      wallMsPerTurn: { p50: median(wall), p99: percentile(wall, 99) },
      answerTokens: PACING.tokens,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
