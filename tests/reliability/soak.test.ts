/**
 * Soak: SOAK_TURNS (default 1,000) chat turns from 50 users through the whole local gateway
 * (`npm start`'s code, in a process of its own: support/soak-host.ts), over the raw AppSync
 * Events WebSocket protocol, with mixed models and tiers, prepared-cache hits and cancels. The
 * model is time-scaled (2,000 tokens/s, short answers) so the run takes well under two
 * minutes on two cores.
 *
 * Asserted: every turn ends with exactly one `done` and no `error` event; each answered turn
 * is charged exactly what the model server reported, each cancelled one the documented
 * estimate, each cache hit nothing; the usage table (read through functions/lib/metering)
 * holds exactly the sum, with no reservation left; the gateway process saw no unhandled
 * rejection or exception and logged no ERROR; every turn's analytics record was delivered to
 * the local Firehose (no delivery dropped) and is one Parquet row. Printed: turns, duration, tokens reported vs
 * settled, and the gateway's RSS and heap (after a forced GC) at start, after a warm-up round,
 * half-way and at the end. See docs/performance.md for the figures and the leak bound's reasoning.
 */
import { AdminAddUserToGroupCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenBound } from "../../functions/lib/metering/estimate.js";
import type { OutboundEvent, TokenCounts } from "../../functions/lib/protocol/outbound.js";
import { USAGE_TABLE } from "../../functions/lib/tables.js";
import { ensureUser } from "../../local/cognito.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import type { LocalEndpoints } from "../../local/endpoints.js";
import type { RawEventsClient } from "../../local/events/testing/raw-client.js";
import { authHeaders, cognitoClient, connectRaw, signIn, type GatewayTarget } from "../e2e/support/gateway.js";
import { usageOf } from "./metering-assertions.js";
import type { AnalyticsFigures, MemoryFigures, ModelCallSummary } from "./support/soak-host.js";

const TURNS = Number(process.env.SOAK_TURNS ?? 1000);
const USERS = 50;
/** Model pacing: fast enough to keep 1,000 turns short, slow enough that cancels land mid-answer. */
const RATE = 2000;
const CANCELLED_ANSWER = { tokens: 2000, rate: 1000 };
/**
 * The leak bound: over the second half of the run (measured after forced GCs, with the
 * servers' test recordings dropped), the gateway's heap may grow by at most 8 KB per turn,
 * and never less than 4 MiB in all. By then the worker instances, SDK clients, connection
 * pools and JIT code exist (the first half filled them); a turn that left its state behind
 * (relay, metering, model stream, SDK commands and responses: tens of KB) grows it past that.
 */
const heapGrowthBound = (turns: number) => Math.max(4 * 1024 * 1024, turns * 8 * 1024);

interface Host {
  target: GatewayTarget;
  dynamodb: DynamoDBClient;
  usageTable: string;
  preparedPrompt: string;
  tierModels: Record<string, string[]>;
  models: string[];
  /** Log lines the gateway's functions wrote at these levels, and the first ERROR lines. */
  logLevels: Map<string, number>;
  errorLines: string[];
  request<T>(cmd: string): Promise<T>;
  stop(): Promise<void>;
}

async function startHost(): Promise<Host> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--expose-gc", "--no-warnings", "--import", "tsx", new URL("./support/soak-host.ts", import.meta.url).pathname],
    // The functions' logs: INFO and DEBUG on stdout, WARN and ERROR on stderr (Powertools' Console).
    { stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const exited = once(child, "exit");
  const logLevels = new Map<string, number>();
  const errorLines: string[] = [];
  const read = (line: string) => {
    const level = /"level":"([A-Z]+)"/.exec(line)?.[1];
    if (!level) {
      // Not a function's log: a crash's trace is worth seeing (Node's warnings are not).
      if (/\b\w*(Error|Exception)\b/.test(line) && !/Warning/.test(line) && errorLines.length < 5) errorLines.push(line.slice(0, 600));
      return;
    }
    const message = /"message":"([^"]*)"/.exec(line)?.[1] ?? "";
    const key = level === "INFO" || level === "DEBUG" ? level : `${level}: ${message}`;
    logLevels.set(key, (logLevels.get(key) ?? 0) + 1);
    if ((level === "ERROR" || level === "CRITICAL") && errorLines.length < 5) errorLines.push(line.slice(0, 600));
  };
  createInterface({ input: child.stdout! }).on("line", read);
  createInterface({ input: child.stderr! }).on("line", read);
  const next = <T>() =>
    Promise.race([once(child, "message").then(([m]) => m as T), exited.then(([code]) => Promise.reject(new Error(`the soak host exited (${code})`)))]);
  const ready = await next<{
    endpoints: LocalEndpoints;
    ca: string;
    dynamodbEndpoint: string;
    tables: Record<string, string>;
    preparedPrompts: string[];
    models: string[];
    tiers: Record<string, string[]>;
  }>();
  // One command at a time: replies carry no id.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    target: { endpoints: ready.endpoints, ca: ready.ca },
    dynamodb: new DynamoDBClient({ endpoint: ready.dynamodbEndpoint, region: ready.endpoints.region, credentials: LOCAL_CREDENTIALS }),
    usageTable: ready.tables[USAGE_TABLE.name]!,
    preparedPrompt: ready.preparedPrompts[0]!,
    tierModels: ready.tiers,
    models: ready.models,
    logLevels,
    errorLines,
    request<T>(cmd: string) {
      const result = queue.then(() => {
        const reply = next<T>();
        child.send({ cmd });
        return reply;
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async stop() {
      process.removeListener("exit", kill);
      if (child.exitCode === null) child.send({ cmd: "stop" });
      await exited;
    },
  };
}

interface SoakUser {
  sub: string;
  tier: string;
  client: RawEventsClient;
  subscriptionId: string;
  headers: Record<string, string>;
}

async function connectUser(host: Host, index: number): Promise<SoakUser> {
  const tier = index % 2 === 0 ? "default" : "pro";
  const username = `soak-${index}@example.com`;
  const password = "Soak-User-Passw0rd!";
  const { userPoolId } = host.target.endpoints.cognito;
  await ensureUser(cognitoClient(host.target), userPoolId, username, password);
  if (tier !== "default") await cognitoClient(host.target).send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: tier }));
  const { sub, accessToken } = await signIn(host.target, username, password);
  const client = await connectRaw(host.target, accessToken);
  const headers = authHeaders(host.target, accessToken);
  const { id, reply } = await client.subscribe(`/Outbound-Messages/${sub}`, headers);
  if (reply.type !== "subscribe_success") throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
  return { sub, tier, client, subscriptionId: id, headers };
}

type Kind = "chat" | "cache" | "cancel";

interface Turn {
  kind: Kind;
  user: SoakUser;
  marker: string;
  requestId: string;
  events: OutboundEvent[];
  /** The `cancel` action's acknowledgement (cancel turns). */
  ack?: OutboundEvent;
}

/** Turn `n` of the whole run: 10% prepared-cache questions, 5% cancelled answers, the rest chats. */
const kindOf = (n: number): Kind => (n % 10 === 3 ? "cache" : n % 20 === 7 ? "cancel" : "chat");

const eventOf = (user: SoakUser, requestId: string) => (m: { type: string; id?: string; event?: unknown }) =>
  m.type === "data" && m.id === user.subscriptionId && (JSON.parse(m.event as string) as OutboundEvent).requestId === requestId;

async function publish(user: SoakUser, payload: Record<string, unknown>): Promise<void> {
  const reply = await user.client.publish(`/Inbound-Messages/${user.sub}`, [payload], user.headers);
  if (reply.type !== "publish_success") throw new Error(`publish failed: ${JSON.stringify(reply)}`);
}

/** Reads a request's events until its final one; `onFirst` runs after its first event. */
async function eventsUntilFinal(user: SoakUser, requestId: string, onFirstDelta?: () => void): Promise<OutboundEvent[]> {
  const events: OutboundEvent[] = [];
  for (;;) {
    const event = JSON.parse((await user.client.next(eventOf(user, requestId))).event as string) as OutboundEvent;
    events.push(event);
    if (event.type === "delta" && events.filter((e) => e.type === "delta").length === 1) onFirstDelta?.();
    if (event.type !== "start" && event.type !== "delta") return events;
  }
}

/** One user's turns, one after another, in their own conversations. */
async function runLane(host: Host, user: SoakUser, lane: number, from: number, to: number, turns: Turn[]): Promise<void> {
  let conversationId = randomUUID();
  const options = [undefined, ...(host.tierModels[user.tier]!.includes("*") ? host.models : host.tierModels[user.tier]!)];
  for (let i = from; i < to; i++) {
    const n = i * USERS + lane;
    if (n >= TURNS) return;
    const kind = kindOf(n);
    const marker = `soak-u${lane}-t${i}-end`;
    const requestId = randomUUID();
    if (i % 4 === 0) conversationId = randomUUID();
    if (kind === "cache") {
      // A new conversation's first question, exactly as the stack prepared it.
      await publish(user, { action: "chat", requestId, conversationId: randomUUID(), message: host.preparedPrompt });
      turns.push({ kind, user, marker, requestId, events: await eventsUntilFinal(user, requestId) });
    } else if (kind === "cancel") {
      const message = `Soak ${marker} tell me a long one [[fake:tokens=${CANCELLED_ANSWER.tokens},rate=${CANCELLED_ANSWER.rate}]]`;
      const cancelId = randomUUID();
      let cancelled: Promise<void> | undefined;
      await publish(user, { action: "chat", requestId, conversationId, message });
      const events = await eventsUntilFinal(user, requestId, () => {
        cancelled = publish(user, { action: "cancel", requestId: cancelId, targetRequestId: requestId });
      });
      await cancelled;
      const ack = cancelled ? JSON.parse((await user.client.next(eventOf(user, cancelId))).event as string) as OutboundEvent : undefined;
      turns.push({ kind, user, marker, requestId, events, ack });
    } else {
      const modelId = options[n % options.length];
      const message = `Soak ${marker} question [[fake:tokens=${5 + ((n * 7) % 40)},rate=${RATE}]]`;
      await publish(user, { action: "chat", requestId, conversationId, message, ...(modelId ? { modelId } : {}) });
      turns.push({ kind, user, marker, requestId, events: await eventsUntilFinal(user, requestId) });
    }
  }
}

const sum = (counts: TokenCounts[]): TokenCounts =>
  counts.reduce((a, b) => ({ inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens }), { inputTokens: 0, outputTokens: 0 });
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const streamed = (events: OutboundEvent[]) => events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");

let host: Host;
let users: SoakUser[];

beforeAll(async () => {
  host = await startHost();
  users = [];
  // Ten sign-ups at a time: cognito-local is one process on a shared machine.
  for (let i = 0; i < USERS; i += 10) users.push(...(await Promise.all(Array.from({ length: Math.min(10, USERS - i) }, (_, k) => connectUser(host, i + k)))));
}, 300_000);

afterAll(async () => {
  await Promise.all((users ?? []).map((u) => u.client.close()));
  host?.dynamodb.destroy();
  await host?.stop();
}, 120_000);

describe("soak", () => {
  it(`answers ${TURNS} turns of ${USERS} users with every token settled as reported, no reservation left and no unhandled error`, async () => {
    const turns: Turn[] = [];
    const rounds = Math.ceil(TURNS / USERS);
    const atStart = await host.request<MemoryFigures>("memory");
    const started = performance.now();

    // Round 0 warms the gateway (worker instances, SDK clients, JIT) before memory is measured.
    await Promise.all(users.map((user, lane) => runLane(host, user, lane, 0, 1, turns)));
    const modelCalls = await host.request<ModelCallSummary[]>("models");
    await host.request("forget");
    const afterWarmUp = await host.request<MemoryFigures>("memory");
    const half = Math.max(1, Math.ceil(rounds / 2));
    await Promise.all(users.map((user, lane) => runLane(host, user, lane, 1, half, turns)));
    modelCalls.push(...(await host.request<ModelCallSummary[]>("models")));
    await host.request("forget");
    const atHalf = await host.request<MemoryFigures>("memory");
    const turnsAtHalf = turns.length;
    await Promise.all(users.map((user, lane) => runLane(host, user, lane, half, rounds, turns)));
    const durationMs = performance.now() - started;
    modelCalls.push(...(await host.request<ModelCallSummary[]>("models")));
    await host.request("forget");
    const atEnd = await host.request<MemoryFigures>("memory");
    const analytics = await host.request<AnalyticsFigures>("analytics");

    // Every turn ended once, with done: no error event of any code.
    expect(turns).toHaveLength(TURNS);
    const errors = turns.flatMap((t) => t.events.filter((e) => e.type === "error"));
    expect(errors).toEqual([]);
    for (const turn of turns) {
      expect(turn.events.filter((e) => e.type !== "start" && e.type !== "delta").map((e) => e.type)).toEqual(["done"]);
      expect(turn.events.map((e) => e.seq)).toEqual(turn.events.map((_, i) => i));
    }

    const done = (t: Turn) => t.events.at(-1) as Extract<OutboundEvent, { type: "done" }>;
    const callsOf = (t: Turn) => modelCalls.filter((c) => c.lastUserText.includes(t.marker));
    const reported: TokenCounts[] = [];
    const estimated: TokenCounts[] = [];
    let cancelledTurns = 0;
    for (const turn of turns) {
      if (turn.kind === "cache") {
        expect(done(turn)).toMatchObject({ cached: true, usage: { inputTokens: 0, outputTokens: 0 } });
        continue;
      }
      const calls = callsOf(turn);
      expect(calls, turn.marker).toHaveLength(1);
      const [call] = calls;
      if (done(turn).stopReason === "cancelled") {
        cancelledTurns++;
        const usage = done(turn).usage;
        // A stream cut before the worker read the model's report is charged the documented
        // estimate: the input estimate and what was streamed, at most maxTokens (README, "How
        // limits work"). The model may have finished writing its report into the socket meanwhile.
        if (call!.usage !== undefined && usage.inputTokens === call!.usage.inputTokens && usage.outputTokens === call!.usage.outputTokens) reported.push(usage);
        else {
          expect(usage).toEqual({ inputTokens: call!.inputEstimate, outputTokens: Math.min(call!.maxTokens, tokenBound(streamed(turn.events))) });
          estimated.push(usage);
        }
      } else {
        expect(["end_turn", "max_tokens"]).toContain(call!.outcome);
        expect(done(turn).usage, turn.marker).toEqual(call!.usage);
        reported.push(call!.usage!);
      }
      if (turn.kind === "cancel") expect(turn.ack).toMatchObject({ type: "cancel", targetRequestId: turn.requestId, status: expect.stringMatching(/^(cancelling|not_running)$/) });
    }
    // No model call outside the turns: none for cache hits, one per other turn.
    expect(modelCalls).toHaveLength(turns.filter((t) => t.kind !== "cache").length);
    expect(modelCalls.filter((c) => c.lastUserText === host.preparedPrompt)).toEqual([]);
    expect(cancelledTurns).toBeGreaterThan(0);

    // The usage table holds exactly what the turns were charged, and nothing is reserved.
    const settled: TokenCounts[] = [];
    for (const user of users) {
      const view = await usageOf(host, user.sub);
      const charged = sum(turns.filter((t) => t.user === user).map((t) => done(t).usage));
      expect({ daily: view.daily, monthly: view.monthly, ledger: { inputTokens: view.ledger.inputTokens, outputTokens: view.ledger.outputTokens } }).toEqual({ daily: charged, monthly: charged, ledger: charged });
      expect(view.reserved).toEqual({ inputTokens: 0, outputTokens: 0 });
      expect(view.reservationsInRecord).toBe(0);
      settled.push(view.daily);
    }
    const totals = { reportedByModel: sum(reported), estimatedForCancelled: sum(estimated), settled: sum(settled) };
    expect(totals.settled).toEqual(sum([totals.reportedByModel, totals.estimatedForCancelled]));

    // Nothing unhandled in the gateway's process, and nothing it logged as an error.
    expect({ rejections: atEnd.unhandledRejections, exceptions: atEnd.uncaughtExceptions }).toEqual({ rejections: 0, exceptions: 0 });
    expect(host.errorLines).toEqual([]);

    // Every turn's record reached the local Firehose within the worker's delivery bound (none
    // dropped, none throttled) and is exactly one Parquet row.
    const analyticsWarnings = [...host.logLevels].filter(([key]) => key.startsWith("WARN: analytics"));
    expect(analyticsWarnings).toEqual([]);
    expect(analytics).toMatchObject({ metrics: { incomingRecords: TURNS, throttledRecords: 0, bufferedRecords: 0 }, parquetRows: TURNS, distinctRequests: TURNS });

    const kinds = (k: Kind) => turns.filter((t) => t.kind === k).length;
    const figures = {
      turns: TURNS,
      users: USERS,
      chats: kinds("chat"),
      cacheHits: kinds("cache"),
      cancelsAsked: kinds("cancel"),
      cancelled: cancelledTurns,
      modelCalls: modelCalls.length,
      models: Object.fromEntries(host.models.map((m) => [m, modelCalls.filter((c) => c.modelId === m).length])),
      durationSeconds: Number((durationMs / 1000).toFixed(1)),
      turnsPerSecond: Number((TURNS / (durationMs / 1000)).toFixed(1)),
      tokens: totals,
      gatewayMemory: {
        rss: { start: mib(atStart.rssBytes), afterWarmUp: mib(afterWarmUp.rssBytes), half: mib(atHalf.rssBytes), end: mib(atEnd.rssBytes) },
        heapUsed: { start: mib(atStart.heapUsedBytes), afterWarmUp: mib(afterWarmUp.heapUsedBytes), half: mib(atHalf.heapUsedBytes), end: mib(atEnd.heapUsedBytes) },
        secondHalfHeapGrowthPerTurn: `${((atEnd.heapUsedBytes - atHalf.heapUsedBytes) / 1024 / (turns.length - turnsAtHalf)).toFixed(1)} KiB`,
        gcForced: atEnd.gcForced,
      },
      analytics: { putRequests: analytics.metrics.incomingPutRequests, records: analytics.metrics.incomingRecords, parquetRows: analytics.parquetRows, parquetFiles: analytics.parquetFiles },
      logLines: Object.fromEntries(host.logLevels),
    };
    // Printed for the report (vitest shows console output of passing tests with --silent=false).
    process.stderr.write(`soak figures: ${JSON.stringify(figures, null, 2)}\n`);

    expect(atEnd.gcForced).toBe(true);
    expect(atEnd.heapUsedBytes - atHalf.heapUsedBytes).toBeLessThan(heapGrowthBound(turns.length - turnsAtHalf));
  }, 600_000);
});
