/**
 * `npm run bench`: measured figures in one table, each beside its baseline from the same run,
 * goals printed as met or missed; the same figures go to bench/results.json. Nothing here is
 * a test. `npm run bench -- --only cold-start,relay,gateway` runs some sections;
 * `--profile <dir>` runs the gateway host under `node --cpu-prof` and writes its profile there.
 * On a shared machine the figures move with the load, which is recorded with them.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { benchColdStart } from "./cold-start.js";
import { closedLoop, connectUsers, gatewayTurn, measureFirstToken, measureThroughput, REAL_PACING, startGatewayHost, thinkMsFor, type LatencyFigures } from "./gateway.js";
import { machineLoadMeter, machineSummary } from "./machine.js";
import { benchCancel } from "./cancel.js";
import { benchCost } from "./cost.js";
import { benchMetering } from "./metering.js";
import { benchRelay } from "./relay.js";
import { kb, ms, printTable, type Row, writeResults } from "./report.js";
import { benchWorkerCost } from "./worker-cpu.js";

const SECTIONS = ["cold-start", "relay", "metering", "cancel", "cost", "gateway"] as const;
type Section = (typeof SECTIONS)[number];

/** Goals of issue 13, in one place. */
export const GOALS = {
  coldStart: { "subscribe authorizer": { kb: 150, initMs: 25 }, "chat worker": { kb: 700, initMs: 80 } } as Record<string, { kb: number; initMs: number }>,
  relayFewerRequests: 10,
  addedFirstTokenP99At20Ms: 150,
  meteringUtilisation: 0.95,
  roundTripsBeforeModel: 3,
  cancelP99Ms: 1000,
  /** Cost per 1,000 turns (model tokens excluded) at most this share of the seed's way. */
  costShareOfSeed: 1 / 3,
};

async function meteringSection(rows: Row[]) {
  const m = await benchMetering();
  const row = (figure: string, value: string, extra: Partial<Row> = {}) => rows.push({ section: "metering", figure, value, ...extra });
  row(`${m.burst} simultaneous chats, one user, limit ${m.limit} output tokens: answered / refused`, `${m.answered} / ${m.refused}`);
  row("overshoot (settled output over the limit)", `${m.overshoot} tokens`, { baseline: `${m.settledOutput} settled of ${m.limit}`, goal: { text: "0", met: m.overshoot === 0 } });
  row("utilisation of the limit once refused", `${(100 * m.utilisation).toFixed(1)}%`, { goal: { text: `>= ${100 * GOALS.meteringUtilisation}%`, met: m.utilisation >= GOALS.meteringUtilisation } });
  row("false refusals", String(m.falseRefusals), { goal: { text: "0", met: m.falseRefusals === 0 } });
  row("admission latency under the burst, p50 / p99", `${ms(m.admissionP50)} / ${ms(m.admissionP99)}`);
  row("DynamoDB round trips before the model call, one chat alone (claim included)", String(m.single.beforeModel), {
    goal: { text: `<= ${GOALS.roundTripsBeforeModel}`, met: m.single.beforeModel <= GOALS.roundTripsBeforeModel },
  });
  row("DynamoDB requests before the model call, one chat alone", String(m.single.dynamodbBeforeModel));
  row("DynamoDB round trips before the model call in the burst, p50 / max", `${m.burstBeforeModel.p50} / ${m.burstBeforeModel.max}`);
  row("DynamoDB requests per turn, one chat alone", String(m.single.dynamodb));
  row("DynamoDB requests per turn in the burst, answered / refused (p50)", `${m.burstDynamodbPerTurn.answered} / ${m.burstDynamodbPerTurn.refused}`);
  return m;
}

async function cancelSection(rows: Row[]) {
  const c = await benchCancel();
  rows.push({
    section: "cancel",
    figure: `cancel from another worker instance -> done (poll ${c.pollIntervalMs} ms), ${c.runs} runs, p50 / p99`,
    value: `${ms(c.p50)} / ${ms(c.p99)}`,
    baseline: `max ${ms(c.max)}`,
    goal: { text: `p99 <= ${GOALS.cancelP99Ms} ms`, met: c.p99 <= GOALS.cancelP99Ms },
  });
  return c;
}

async function costSection(rows: Row[]) {
  const c = await benchCost();
  const usd = (n: number) => `$${n.toFixed(4)}`;
  const per = (ops: { turns: number }, n: number) => (n / ops.turns).toFixed(1);
  const g = c.gateway.operations;
  const s = c.seed.operations;
  const row = (figure: string, value: string, baseline: string, goal?: Row["goal"]) => rows.push({ section: "cost", figure, value, baseline, ...(goal ? { goal } : {}) });
  row(
    `per 1,000 turns excl. model tokens (${c.answerTokens}-token answers at ${c.tokensPerSecond}/s, ${c.turns} turns)`,
    usd(c.gateway.totalPerThousand),
    `${usd(c.seed.totalPerThousand)} seed's way`,
    { text: `<= 1/3 of the seed's`, met: c.ratio <= GOALS.costShareOfSeed },
  );
  row("share of the seed's cost", `${(100 * c.ratio).toFixed(1)}%`, "");
  row("Events API operations per turn (published + delivered)", per(g, g.eventsPublished + g.messagesDelivered), `${per(s, s.eventsPublished + s.messagesDelivered)} seed's way`);
  row("publish requests / new connections per turn", `${per(g, g.publishRequests)} / ~0 (kept alive)`, `${per(s, s.publishRequests)} / ${per(s, s.publishRequests)} seed's way`);
  row("DynamoDB request units per turn, write / read", `${per(g, g.dynamodbWriteUnits)} / ${per(g, g.dynamodbReadUnits)}`, `${per(s, s.dynamodbWriteUnits)} / ${per(s, s.dynamodbReadUnits)} seed's way`);
  row("Lambda billed ms per turn (wall, mostly the model's stream)", per(g, g.lambdaBilledMs), `${per(s, s.lambdaBilledMs)} seed's way`);
  return c;
}

async function coldStartSection(rows: Row[]) {
  const bundles = await benchColdStart();
  const empty = bundles.find((b) => b.name === "empty handler")!;
  for (const b of bundles.filter((x) => x !== empty)) {
    const goal = GOALS.coldStart[b.name];
    rows.push({ section: "cold start", figure: `${b.name}: bundle size`, value: kb(b.bytes), baseline: `${kb(empty.bytes)} empty`, ...(goal ? { goal: { text: `< ${goal.kb} KB`, met: b.bytes < goal.kb * 1000 } } : {}) });
    rows.push({ section: "cold start", figure: `${b.name}: module init CPU (median)`, value: `${ms(b.initMs)} (${ms(b.initWallMs)} wall)`, baseline: `${ms(empty.initMs)} empty`, ...(goal ? { goal: { text: `< ${goal.initMs} ms`, met: b.initMs < goal.initMs } } : {}) });
  }
  return bundles;
}

async function relaySection(rows: Row[]) {
  const r = await benchRelay();
  const fewer = r.perDelta.requests / r.relay.requests;
  const budget = r.flushIntervalMs + 10;
  rows.push({ section: "relay", figure: `publish requests, ${r.tokens}-token answer`, value: String(r.relay.requests), baseline: `${r.perDelta.requests} one per delta`, goal: { text: `>= ${GOALS.relayFewerRequests}x fewer`, met: fewer >= GOALS.relayFewerRequests } });
  rows.push({ section: "relay", figure: "published events", value: String(r.relay.events), baseline: `${r.perDelta.events} one per delta` });
  rows.push({ section: "relay", figure: "added delay until sent, p50 / p99", value: `${ms(r.relay.sentP50)} / ${ms(r.relay.sentP99)}`, baseline: `${ms(r.perDelta.sentP50)} / ${ms(r.perDelta.sentP99)}`, goal: { text: `p99 <= ${budget} ms`, met: r.relay.sentP99 <= budget } });
  rows.push({ section: "relay", figure: "delay until acknowledged, p50 / p99", value: `${ms(r.relay.ackedP50)} / ${ms(r.relay.ackedP99)}`, baseline: `${ms(r.perDelta.ackedP50)} / ${ms(r.perDelta.ackedP99)}` });
  return r;
}

/**
 * The turns per second the users would ask for if the gateway added nothing: each asks again
 * after the answer (its first token as the direct client sees it, then `tokens / rate`) and a
 * pause of half the longest think time on average. Beside the saturation throughput it says
 * whether a phase measured a gateway with room or a queue.
 */
function offeredTurnsPerSecond(f: LatencyFigures): number {
  const cycleMs = f.direct.p50 + (1000 * f.pacing.tokens) / f.pacing.rate + thinkMsFor(f.pacing) / 2;
  return (1000 * f.users) / cycleMs;
}

/**
 * The goal is judged at the model's real pace. The time-scaled phase (ten times the model's
 * speed, users pausing at most one such answer) has 20 users ask more turns per second than
 * this machine can serve at all, so it measures the queue of a saturated machine; it is kept,
 * as a stress figure, beside the saturation throughput.
 */
function latencyRows(rows: Row[], f: LatencyFigures, saturationTurnsPerSecond: number) {
  const pace = `${f.pacing.rate} tokens/s`;
  const at = `${f.users} user${f.users > 1 ? "s" : ""}, ${pace}`;
  const offered = offeredTurnsPerSecond(f);
  const judged = f.users === 20 && f.pacing.rate === REAL_PACING.rate;
  const goal = judged ? { goal: { text: `added p99 <= ${GOALS.addedFirstTokenP99At20Ms} ms`, met: f.added.p99 <= GOALS.addedFirstTokenP99At20Ms } } : {};
  rows.push({ section: "gateway", figure: `first token at ${at}, p50 / p99`, value: `${ms(f.gateway.p50)} / ${ms(f.gateway.p99)}`, baseline: `${ms(f.direct.p50)} / ${ms(f.direct.p99)} direct` });
  rows.push({ section: "gateway", figure: `added by the gateway at ${at}, p50 / p99`, value: `${ms(f.added.p50)} / ${ms(f.added.p99)}`, baseline: `users ask ~${offered.toFixed(0)} turns/s (${((100 * offered) / saturationTurnsPerSecond).toFixed(0)}% of saturation)`, ...goal });
  rows.push({ section: "gateway", figure: `gateway process CPU per turn at ${at}`, value: ms(f.gatewayCpuMsPerTurn), baseline: f.machineBusyShare === undefined ? undefined : `machine ${(f.machineBusyShare * 100).toFixed(0)}% busy` });
}

async function gatewaySection(rows: Row[], profileDir?: string) {
  const host = await startGatewayHost({ cpuProfileDir: profileDir });
  try {
    const users = await connectUsers(host, 32);
    // Warm every worker container the phases will use (a container's first turn is a cold start).
    await closedLoop(users.length, 2, (lane) => gatewayTurn(users[lane]!));
    const one = await measureFirstToken(host, users.slice(0, 1), 30);
    const twenty = await measureFirstToken(host, users.slice(0, 20), 10);
    const twentyRealPace = await measureFirstToken(host, users.slice(0, 20), 15, REAL_PACING);
    const worker = await benchWorkerCost(host, { cpuProfileDir: profileDir });
    rows.push({ section: "gateway", figure: "worker CPU per turn (bundle, alone), p50 / p99", value: `${ms(worker.cpuMsPerTurn.p50)} / ${ms(worker.cpuMsPerTurn.p99)}`, baseline: `${ms(worker.wallMsPerTurn.p50)} wall (billed)` });
    const throughput = await measureThroughput(host, users, [4, 8, 16, 32], 6);
    for (const f of [one, twentyRealPace, twenty]) latencyRows(rows, f, throughput.best.turnsPerSecond);
    rows.push({ section: "gateway", figure: "throughput at saturation", value: `${throughput.best.turnsPerSecond.toFixed(1)} turns/s`, baseline: `at ${throughput.best.users} users` });
    const cpu = throughput.best.cpuMsPerTurn;
    rows.push({
      section: "gateway",
      figure: "machine CPU per turn at saturation",
      value: ms(cpu.total),
      baseline: `gateway ${ms(cpu.gateway)}, DynamoDB Local ${ms(cpu.dynamodbLocal)}, clients ${ms(cpu.clients)}, other ${ms(cpu.otherChildren)}`,
    });
    for (const u of users) await u.client.close();
    return { firstToken: [one, twenty, twentyRealPace], workerCost: worker, throughput, workerConcurrency: host.workerConcurrency };
  } finally {
    await host.stop();
  }
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: "string" }, profile: { type: "string" }, out: { type: "string" } } });
  const only = new Set((values.only?.split(",") ?? SECTIONS) as Section[]);
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(", ")}`);
  const startedMachine = machineSummary();
  const load = machineLoadMeter();
  const rows: Row[] = [];
  const sections: Record<string, unknown> = {};
  if (only.has("cold-start")) sections.coldStart = await coldStartSection(rows);
  if (only.has("relay")) sections.relay = await relaySection(rows);
  if (only.has("metering")) sections.metering = await meteringSection(rows);
  if (only.has("cancel")) sections.cancel = await cancelSection(rows);
  if (only.has("cost")) sections.cost = await costSection(rows);
  if (only.has("gateway")) sections.gateway = await gatewaySection(rows, values.profile ? resolve(values.profile) : undefined);
  const busy = load.busyShare();
  const endedMachine = machineSummary();
  console.log("");
  printTable(rows);
  console.log(
    `\n${startedMachine.cpus} CPUs (${startedMachine.cpuModel}), Node ${startedMachine.node}; load average ${startedMachine.loadAverage1m} at start, ${endedMachine.loadAverage1m} at end` +
      (busy === undefined ? "" : `; all cores ${(busy * 100).toFixed(0)}% busy during the run (this benchmark included)`) +
      ".\nFigures taken on a shared or loaded machine are upper bounds: re-run on a quiet one before comparing.",
  );
  const out = resolve(values.out ?? new URL("./results.json", import.meta.url).pathname);
  writeResults(out, {
    generatedAt: new Date().toISOString(),
    machine: { ...startedMachine, loadAverage1mStart: startedMachine.loadAverage1m, loadAverage1mEnd: endedMachine.loadAverage1m, busyShareDuringRun: busy },
    rows,
    sections,
  });
  console.log(`Written to ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
