/**
 * The benchmark's gateway, in its own process (as AppSync, Lambda and Bedrock are remote to
 * their clients): `npm start`'s startLocalGateway on free ports with the bench stack. Over the
 * IPC channel (stdout carries the functions' logs) it sends what clients need, then answers
 * `cpu` (this process's CPU time so far, in ms, its RSS, and its children's CPU time by
 * command: DynamoDB Local's JVM, cognito-local) and `stop`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalGateway } from "../local/gateway.js";
import { BENCH_STACK, writeBenchProject } from "./bench-stack.js";
import { descendantsCpuMs } from "./machine.js";

const projectDir = writeBenchProject();
const stateDir = mkdtempSync(join(tmpdir(), "gateway-bench-state-"));
const gateway = await startLocalGateway({ stack: BENCH_STACK, projectDir, stateDir, model: "fake", maxRecorded: 200 });
const reply = (value: unknown) => process.send!(value);

reply({
  endpoints: gateway.endpoints,
  ca: readFileSync(gateway.endpoints.events.caCertPath!, "utf8"),
  bedrockUrl: gateway.bedrock!.url,
  eventsPlainHttpEndpoint: gateway.events.listeners.worker!.httpEndpoint,
  eventsKey: gateway.eventsKey,
  dynamodb: gateway.dynamodb,
  workerConcurrency: gateway.config.worker.reservedConcurrency,
  configPath: join(stateDir, `gateway-config.${BENCH_STACK}.json`),
});

const stop = async () => {
  await gateway.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(projectDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("message", (command) => {
  if (command === "cpu") {
    const { user, system } = process.cpuUsage();
    reply({ cpuMs: (user + system) / 1000, rssBytes: process.memoryUsage().rss, childrenCpuMs: descendantsCpuMs() });
  } else if (command === "stop") void stop();
});
process.on("disconnect", () => void stop());
