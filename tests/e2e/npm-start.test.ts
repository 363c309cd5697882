/**
 * `npm start` itself (tsx local/start.ts) as a child process: banner, a chat, SIGTERM, and the
 * errors a user meets first. State lives in a temporary --state-dir; ports are picked free.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { READY_LINE } from "../../local/banner.js";
import type { LocalEndpoints } from "../../local/endpoints.js";
import { sendHttp, signRequest } from "../../local/events/testing/fixture.js";
import { chatOnce, descendantPids, isRunning, signInDemoUser } from "./support/gateway.js";
import { listeningSockets } from "./support/listening-sockets.js";

const ROOT = join(import.meta.dirname, "../..");
const FREE_PORTS = ["--events-port", "0", "--cognito-port", "0", "--dynamodb-port", "0", "--web-port", "0"];

let stateDir: string;
const children: ChildProcess[] = [];
const detachedPids = new Set<number>();

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "npm-start-"));
});

afterEach(() => {
  // Only reached when a test failed half-way; a passing test has already stopped its child.
  // SIGTERM lets npm start stop its own children; a detached one's whole group goes too.
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    if (detachedPids.has(child.pid!)) process.kill(-child.pid!, "SIGKILL");
    else child.kill("SIGTERM");
  }
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `detached` gives it a process group of its own, as a terminal's foreground job has. */
function npmStart(args: string[], options: { detached?: boolean } = {}): Started {
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  if (options.detached) detachedPids.add(child.pid!);
  children.push(child);
  const stdout: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on("line", (line) => stdout.push(line));
  return { child, stdout, stderr: () => stderr, exited };
}

/** Resolves when the banner's last line appears, or rejects with the output if the process ends first. */
function ready(started: Started): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: started.child.stdout! });
    lines.on("line", (line) => line === READY_LINE && resolve());
    started.exited.then((code) => reject(new Error(`npm start exited (${code}) before it was ready:\n${started.stderr()}`)));
  });
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

function occupiedPort(): Promise<{ port: number; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

describe("npm start", () => {
  it("prints the banner, serves a chat, and on SIGTERM stops every child process and removes endpoints.json", async () => {
    const started = npmStart(["--state-dir", stateDir, ...FREE_PORTS]);
    await ready(started);
    const banner = started.stdout.join("\n");
    const endpointsFile = join(stateDir, "endpoints.json");
    const endpoints = JSON.parse(await readFile(endpointsFile, "utf8")) as LocalEndpoints;
    expect(banner).toContain(endpoints.events.httpEndpoint);
    expect(banner).toContain(endpoints.events.realtimeEndpoint);
    expect(banner).toContain(endpoints.cognito.endpoint);
    for (const user of endpoints.users) expect(banner).toContain(user.username);
    expect(banner).toContain("Ctrl-C");

    const target = { endpoints, ca: await readFile(endpoints.events.caCertPath!, "utf8") };
    const answer = await chatOnce(target, await signInDemoUser(target, "default"), "Hello npm start [[fake:tokens=3]]");
    expect(answer.at(-1)!.type).toBe("done");

    // tsx's esbuild service (started on a transform-cache miss) ends by itself once its parent has gone; the rest is ours.
    const descendants = (await descendantPids(started.child.pid!)).filter((pid) => !commandLine(pid).includes("esbuild"));
    expect(descendants.map(commandLine)).toEqual(
      expect.arrayContaining([expect.stringContaining("DynamoDBLocal.jar"), expect.stringContaining("cognito-local")]),
    );
    started.child.kill("SIGTERM");
    expect(await started.exited).toBe(0);
    expect(started.stdout.join("\n")).toContain("Stopped.");
    expect(descendants.filter(isRunning)).toEqual([]);
    expect(existsSync(endpointsFile)).toBe(false);
  });

  it("stops everything on Ctrl-C, which a terminal sends as SIGINT to the whole process group", async () => {
    const started = npmStart(["--state-dir", stateDir, ...FREE_PORTS], { detached: true });
    await ready(started);
    const descendants = (await descendantPids(started.child.pid!)).filter((pid) => !commandLine(pid).includes("esbuild"));
    expect(descendants.map(commandLine)).toEqual(expect.arrayContaining([expect.stringContaining("DynamoDBLocal.jar")]));
    process.kill(-started.child.pid!, "SIGINT");
    expect(await started.exited).toBe(0);
    expect(started.stdout.join("\n")).toContain("Stopped.");
    expect(descendants.filter(isRunning)).toEqual([]);
    expect(existsSync(join(stateDir, "endpoints.json"))).toBe(false);
  });

  it("listens on 127.0.0.1 only, in every process it starts, and refuses the old fixed key and browser pages", async () => {
    const started = npmStart(["--state-dir", stateDir, ...FREE_PORTS]);
    await ready(started);
    const endpoints = JSON.parse(await readFile(join(stateDir, "endpoints.json"), "utf8")) as LocalEndpoints;
    const pids = [started.child.pid!, ...(await descendantPids(started.child.pid!)).filter((pid) => !commandLine(pid).includes("esbuild"))];
    const sockets = (await Promise.all(pids.map(async (pid) => (await listeningSockets(pid)).map((s) => ({ ...s, process: commandLine(pid) }))))).flat();
    const portOf = (url: string) => Number(new URL(url).port);
    // The Events API, the worker's listener, the model server, cognito-local and DynamoDB Local at least.
    expect(sockets.map((s) => s.port)).toEqual(
      expect.arrayContaining([portOf(endpoints.events.httpEndpoint), portOf(endpoints.cognito.endpoint)]),
    );
    expect(sockets.length).toBeGreaterThanOrEqual(5);
    expect(sockets.filter((s) => s.address !== "127.0.0.1")).toEqual([]);

    const ca = await readFile(endpoints.events.caCertPath!, "utf8");
    const url = new URL(endpoints.events.httpEndpoint);
    const body = JSON.stringify({ channel: "/Outbound-Messages/00000000-0000-4000-8000-000000000000", events: ['{"type":"done"}'] });
    const forged = await sendHttp(url, body, await signRequest(url, body, { accessKeyId: "local", secretAccessKey: "local" }), { ca });
    expect(forged.status).toBe(401);
    expect(await readFile(join(stateDir, "endpoints.json"), "utf8")).not.toMatch(/secretAccessKey|accessKeyId/i);
    const fromPage = await sendHttp(url, body, { origin: "http://localhost:8080", authorization: "token" }, { ca });
    expect(fromPage.status).toBe(403);

    started.child.kill("SIGTERM");
    expect(await started.exited).toBe(0);
  });

  it("refuses a busy port with a message naming it and the flag that moves it, starting nothing", async () => {
    const { port, server } = await occupiedPort();
    try {
      const started = npmStart(["--state-dir", stateDir, ...FREE_PORTS, "--cognito-port", String(port)]);
      expect(await started.exited).toBe(1);
      expect(started.stderr()).toContain(`Port ${port} (cognito, set with --cognito-port) is already in use`);
      expect(started.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      server.close();
    }
  });

  it("names a missing stack file and how to pick another stack", async () => {
    const started = npmStart(["--state-dir", stateDir, "--stack", "nosuchstack", ...FREE_PORTS]);
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toContain("Pulumi.nosuchstack.yaml");
    expect(started.stderr()).toContain("--stack");
  });

  it("answers an unknown flag or model with the usage text", async () => {
    const unknownFlag = npmStart(["--colour"]);
    expect(await unknownFlag.exited).toBe(2);
    expect(unknownFlag.stderr()).toContain("Usage: npm start");
    const badModel = npmStart(["--model", "gpt"]);
    expect(await badModel.exited).toBe(2);
    expect(badModel.stderr()).toContain('--model must be "fake" or "bedrock"');
  });
});
