/**
 * The gateway under load, through `npm start`'s own code (bench/gateway-host.ts in a child
 * process): delay to the first token at 1 and at 20 concurrent users over the raw AppSync
 * Events WebSocket protocol, beside a client calling the same model server directly in the
 * same run; and turns per second at saturation. The fake model's pacing is time-scaled (40
 * tokens at 400 tokens/s, users pausing up to one answer's length between turns) so the whole
 * section takes well under a minute.
 */
import { useLocalAwsEnvironment } from "./local-aws-env.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { AdminAddUserToGroupCommand, CognitoIdentityProviderClient, InitiateAuthCommand } from "@aws-sdk/client-cognito-identity-provider";
import { randomUUID } from "node:crypto";
import { createBedrockClient } from "../functions/lib/bedrock/client.js";
import { converseStream } from "../functions/lib/bedrock/converse.js";
import type { OutboundEvent } from "../functions/lib/protocol/outbound.js";
import { ensureUser } from "../local/cognito.js";
import { LOCAL_CREDENTIALS } from "../local/dynamodb.js";
import type { LocalEndpoints } from "../local/endpoints.js";
import { cognitoHeaders, RawEventsClient } from "../local/events/testing/raw-client.js";
import { machineLoadMeter } from "./machine.js";
import { percentile } from "./stats.js";

/** An answer's length and the model's speed (tokens per second). */
export interface Pacing {
  tokens: number;
  rate: number;
}
/** Time-scaled: ten times a Bedrock model's speed, so a phase takes seconds. */
export const PACING: Pacing = { tokens: 40, rate: 400 };
/** The same answer at a model's real speed (Claude-class models stream ~40-80 tokens/s). */
export const REAL_PACING: Pacing = { tokens: 40, rate: 40 };
export const promptFor = (pacing: Pacing) => `Tell me something [[fake:tokens=${pacing.tokens},rate=${pacing.rate}]]`;
const PROMPT = promptFor(PACING);

export interface GatewayHost {
  endpoints: LocalEndpoints;
  ca: string;
  bedrockUrl: string;
  eventsPlainHttpEndpoint: string;
  /** The key the host's Events server accepts for the worker's publishes (made at its start). */
  eventsKey: { accessKeyId: string; secretAccessKey: string };
  dynamodb: { endpoint: string; tables: Record<string, string> };
  workerConcurrency: number;
  configPath: string;
  /** The host process's CPU time so far (ms), its RSS, and its children's CPU time (ms) by command. */
  usage(): Promise<HostUsage>;
  stop(): Promise<void>;
}

export interface HostUsage {
  cpuMs: number;
  rssBytes: number;
  childrenCpuMs: Record<string, number>;
}

/** Starts bench/gateway-host.ts; `cpuProfileDir` runs it under `node --cpu-prof`. */
export async function startGatewayHost(options: { cpuProfileDir?: string } = {}): Promise<GatewayHost> {
  const profile = options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : [];
  const child = spawn(process.execPath, [...profile, "--no-warnings", "--import", "tsx", new URL("./gateway-host.ts", import.meta.url).pathname], {
    // The functions log to stdout, as in Lambda; the host's messages come over IPC.
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const exited = once(child, "exit");
  const nextMessage = <T>() =>
    Promise.race([once(child, "message").then(([m]) => m as T), exited.then(([code]) => Promise.reject(new Error(`the gateway host exited (${code})`)))]);
  const ready = await nextMessage<Omit<GatewayHost, "usage" | "stop">>();
  return {
    ...ready,
    usage: () => {
      const reply = nextMessage<HostUsage>();
      child.send("cpu");
      return reply;
    },
    async stop() {
      process.removeListener("exit", kill);
      child.send("stop");
      await exited;
    },
  };
}

export interface BenchUser {
  sub: string;
  client: RawEventsClient;
  subscriptionId: string;
  headers: Record<string, string>;
}

/** Creates, signs in, connects and subscribes `count` users (the `pro` tier, as heavy users are). */
export async function connectUsers(host: GatewayHost, count: number, prefix = "bench"): Promise<BenchUser[]> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: host.endpoints.cognito.endpoint, region: host.endpoints.region, credentials: LOCAL_CREDENTIALS });
  const { userPoolId, userPoolClientId } = host.endpoints.cognito;
  const password = "Bench-User-Passw0rd!";
  const users = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const username = `${prefix}-${i}@example.com`;
      await ensureUser(cognito, userPoolId, username, password);
      await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: "pro" }));
      const auth = await cognito.send(
        new InitiateAuthCommand({ ClientId: userPoolClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: password } }),
      );
      const token = auth.AuthenticationResult!.AccessToken!;
      const sub = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sub as string;
      const headers = cognitoHeaders(host.endpoints.events.httpEndpoint, token);
      const client = await RawEventsClient.connect(host.endpoints.events.realtimeEndpoint, headers, { ca: host.ca });
      await client.init();
      const { id, reply } = await client.subscribe(`/Outbound-Messages/${sub}`, headers);
      if (reply.type !== "subscribe_success") throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
      return { sub, client, subscriptionId: id, headers };
    }),
  );
  cognito.destroy();
  return users;
}

export interface TurnTiming {
  firstTokenMs: number;
  totalMs: number;
  ok: boolean;
}

/** One chat turn through the gateway: publish over the WebSocket, wait for the first delta and the end. */
export async function gatewayTurn(user: BenchUser, prompt = PROMPT): Promise<TurnTiming> {
  const requestId = randomUUID();
  const payload = { action: "chat", requestId, conversationId: randomUUID(), message: prompt };
  const ofThisTurn = (m: { type: string; id?: string; event?: unknown }) =>
    m.type === "data" && m.id === user.subscriptionId && (JSON.parse(m.event as string) as OutboundEvent).requestId === requestId;
  const started = performance.now();
  const published = user.client.publish(`/Inbound-Messages/${user.sub}`, [payload], user.headers);
  let firstTokenMs = Number.NaN;
  for (;;) {
    const event = JSON.parse((await user.client.next(ofThisTurn)).event as string) as OutboundEvent;
    if (event.type === "delta" && Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - started;
    if (event.type === "done" || event.type === "error") {
      if ((await published).type !== "publish_success") return { firstTokenMs, totalMs: Number.NaN, ok: false };
      return { firstTokenMs, totalMs: performance.now() - started, ok: event.type === "done" };
    }
  }
}

/** The same question asked of the model server directly, with the real SDK client. */
export function directTurner(host: GatewayHost) {
  useLocalAwsEnvironment(host.endpoints.region);
  const client = createBedrockClient({ endpoint: host.bedrockUrl });
  return {
    async turn(prompt = PROMPT): Promise<TurnTiming> {
      const started = performance.now();
      let firstTokenMs = Number.NaN;
      const stream = converseStream(client, { modelId: "us.amazon.nova-lite-v1:0", system: "", messages: [{ role: "user", text: prompt }], maxTokens: 1000 });
      for await (const part of stream) if (part.kind === "text" && Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - started;
      return { firstTokenMs, totalMs: performance.now() - started, ok: true };
    },
    close: () => client.destroy(),
  };
}

/**
 * `lanes` concurrent users, each asking `turnsEach` times, one turn after the other, with a
 * random pause of up to `thinkMs` before each turn. The pause keeps the users from marching
 * in lockstep: with none, all of them would publish in the same millisecond every round,
 * which measures a burst of simultaneous arrivals rather than users sharing the gateway.
 */
export async function closedLoop(lanes: number, turnsEach: number, turn: (lane: number) => Promise<TurnTiming>, thinkMs = 0): Promise<TurnTiming[]> {
  const timings: TurnTiming[] = [];
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; i < turnsEach; i++) {
        if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * thinkMs));
        timings.push(await turn(lane));
      }
    }),
  );
  return timings;
}

/** Up to one answer's length of pause between a user's turns (100 ms at PACING). */
export const thinkMsFor = (pacing: Pacing) => (1000 * pacing.tokens) / pacing.rate;

export interface LatencyFigures {
  users: number;
  pacing: Pacing;
  turns: number;
  failed: number;
  gateway: { p50: number; p99: number };
  direct: { p50: number; p99: number };
  /** Gateway minus direct, per percentile: what the gateway adds to the time to first token. */
  added: { p50: number; p99: number };
  /** The gateway process's CPU (events server, worker, model server, auth) per turn. */
  gatewayCpuMsPerTurn: number;
  machineBusyShare?: number;
}

export async function measureFirstToken(host: GatewayHost, users: BenchUser[], turnsEach: number, pacing = PACING): Promise<LatencyFigures> {
  const prompt = promptFor(pacing);
  const thinkMs = thinkMsFor(pacing);
  const direct = directTurner(host);
  try {
    const load = machineLoadMeter();
    const cpuBefore = (await host.usage()).cpuMs;
    const viaGateway = await closedLoop(users.length, turnsEach, (lane) => gatewayTurn(users[lane]!, prompt), thinkMs);
    const cpuAfter = (await host.usage()).cpuMs;
    const straight = await closedLoop(users.length, turnsEach, () => direct.turn(prompt), thinkMs);
    const ok = viaGateway.filter((t) => t.ok).map((t) => t.firstTokenMs);
    const base = straight.map((t) => t.firstTokenMs);
    const gateway = { p50: percentile(ok, 50), p99: percentile(ok, 99) };
    const baseline = { p50: percentile(base, 50), p99: percentile(base, 99) };
    return {
      users: users.length,
      pacing,
      turns: viaGateway.length,
      failed: viaGateway.length - ok.length,
      gateway,
      direct: baseline,
      added: { p50: gateway.p50 - baseline.p50, p99: gateway.p99 - baseline.p99 },
      gatewayCpuMsPerTurn: (cpuAfter - cpuBefore) / viaGateway.length,
      machineBusyShare: load.busyShare(),
    };
  } finally {
    direct.close();
  }
}

/**
 * Turns per second with every user asking again as soon as an answer ends, the model
 * answering at once (24 tokens, no pacing): at each concurrency for `seconds`, the highest wins.
 */
export async function measureThroughput(host: GatewayHost, users: BenchUser[], levels: number[], seconds: number) {
  const prompt = "Quick one [[fake:tokens=24,rate=0]]";
  const results: { users: number; turnsPerSecond: number; failed: number; cpuMsPerTurn: CpuPerTurn }[] = [];
  for (const level of levels.filter((l) => l <= users.length)) {
    const deadline = performance.now() + seconds * 1000;
    let done = 0;
    let failed = 0;
    const before = await host.usage();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      users.slice(0, level).map(async (user) => {
        while (performance.now() < deadline) {
          const t = await gatewayTurn(user, prompt);
          if (t.ok) done++;
          else failed++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const client = process.cpuUsage(clientBefore);
    const after = await host.usage();
    const turns = Math.max(1, done + failed);
    const cpuMsPerTurn = cpuPerTurn(before, after, (client.user + client.system) / 1000, turns);
    results.push({ users: level, turnsPerSecond: done / elapsed, failed, cpuMsPerTurn });
  }
  const best = results.reduce((a, b) => (b.turnsPerSecond > a.turnsPerSecond ? b : a));
  return { levels: results, best };
}

/**
 * Where a turn's CPU goes on this machine: the gateway host (Events server, worker containers,
 * model server, authorizer), its children (DynamoDB Local's JVM, cognito-local) and the
 * benchmark's own clients. In AWS only the worker's share runs on your bill; the Events API,
 * DynamoDB and Bedrock are services.
 */
export interface CpuPerTurn {
  gateway: number;
  dynamodbLocal: number;
  otherChildren: number;
  clients: number;
  total: number;
}

function cpuPerTurn(before: HostUsage, after: HostUsage, clientMs: number, turns: number): CpuPerTurn {
  const child = (name: string, usage: HostUsage) => usage.childrenCpuMs[name] ?? 0;
  const childTotal = (usage: HostUsage) => Object.values(usage.childrenCpuMs).reduce((a, b) => a + b, 0);
  const gateway = (after.cpuMs - before.cpuMs) / turns;
  const dynamodbLocal = (child("java", after) - child("java", before)) / turns;
  const otherChildren = (childTotal(after) - childTotal(before)) / turns - dynamodbLocal;
  const clients = clientMs / turns;
  return { gateway, dynamodbLocal, otherChildren, clients, total: gateway + dynamodbLocal + otherChildren + clients };
}
