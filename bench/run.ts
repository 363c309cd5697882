/**
 * `npm run bench`: measured figures, printed as tables, each beside its baseline from the
 * same run. Goals are printed as met or missed; nothing here is a test.
 */
import { benchMetering } from "./metering.js";
import { benchCancel } from "./cancel.js";
import { benchRelay } from "./relay.js";

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main() {
  const r = await benchRelay();
  console.log(`\nRelay: ${r.tokens} single-token deltas streamed in ${fmt(r.streamSeconds)} s (~${fmt(r.tokens / r.streamSeconds, 0)} tokens/s), flushIntervalMs ${r.flushIntervalMs}\n`);
  const rows: [string, string, string, string][] = [
    ["", "ResponseRelay", "one publish per delta", "ratio"],
    ["publish requests", String(r.relay.requests), String(r.perDelta.requests), `${fmt(r.perDelta.requests / r.relay.requests)}x fewer`],
    ["published events", String(r.relay.events), String(r.perDelta.events), `${fmt(r.perDelta.events / r.relay.events)}x fewer`],
    ["added delay until sent, p50 (ms)", fmt(r.relay.sentP50), fmt(r.perDelta.sentP50), ""],
    ["added delay until sent, p99 (ms)", fmt(r.relay.sentP99), fmt(r.perDelta.sentP99), ""],
    ["delay until acknowledged, p50 (ms)", fmt(r.relay.ackedP50), fmt(r.perDelta.ackedP50), ""],
    ["delay until acknowledged, p99 (ms)", fmt(r.relay.ackedP99), fmt(r.perDelta.ackedP99), ""],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
  const fewer = r.perDelta.requests / r.relay.requests;
  const delayBudget = r.flushIntervalMs + 10;
  console.log(`\nGoal: >= 10x fewer publish requests: ${fewer >= 10 ? "met" : "MISSED"} (${fmt(fewer)}x)`);
  console.log(`Goal: p99 added delay <= flush interval + 10 ms (${delayBudget} ms): ${r.relay.sentP99 <= delayBudget ? "met" : "MISSED"} (${fmt(r.relay.sentP99)} ms until sent; ${fmt(r.relay.ackedP99)} ms until acknowledged)\n`);

  const m = await benchMetering();
  console.log(
    `\nMetering: ${m.burst} simultaneous chats of one user, daily output limit ${m.limit}, ${m.perRequest} tokens per request, a model that uses all of maxTokens; then one chat at a time until refused\n`,
  );
  printTable([
    ["", "measured", "goal"],
    ["answered / refused", `${m.answered} / ${m.refused}`, ""],
    ["settled output tokens", String(m.settledOutput), `<= ${m.limit}`],
    ["overshoot (tokens)", String(m.overshoot), "0"],
    ["utilisation of the limit", `${fmt(100 * m.utilisation)}%`, ">= 95%"],
    ["false refusals", String(m.falseRefusals), "0"],
    ["admission latency p50 (ms)", fmt(m.admissionP50), ""],
    ["admission latency p99 (ms)", fmt(m.admissionP99), ""],
    ["DynamoDB round trips before the model, one chat alone (claim included)", String(m.single.beforeModel), "<= 3"],
    ["DynamoDB round trips before the model, in the burst: p50 / max", `${m.burstBeforeModel.p50} / ${m.burstBeforeModel.max}`, ""],
    ["DynamoDB requests per turn, one chat alone", String(m.single.dynamodb), ""],
    ["DynamoDB requests per turn, in the burst: answered / refused (p50)", `${m.burstDynamodbPerTurn.answered} / ${m.burstDynamodbPerTurn.refused}`, ""],
  ]);
  const goals: [string, boolean][] = [
    ["overshoot 0", m.overshoot === 0],
    ["utilisation >= 95%", m.utilisation >= 0.95],
    ["false refusals 0", m.falseRefusals === 0],
    ["<= 3 round trips before the model call", m.single.beforeModel <= 3],
  ];
  for (const [goal, met] of goals) console.log(`Goal: ${goal}: ${met ? "met" : "MISSED"}`);
  console.log("");

  const c = await benchCancel();
  console.log(`Cancel (another worker instance, through DynamoDB Local, poll every ${c.pollIntervalMs} ms), ${c.runs} runs:`);
  console.log(`  cancel handled -> done/cancelled: p50 ${fmt(c.p50, 0)} ms, p99 ${fmt(c.p99, 0)} ms, max ${fmt(c.max, 0)} ms`);
  console.log(`Goal: stops within about a second (p99 <= 1000 ms): ${c.p99 <= 1000 ? "met" : "MISSED"}\n`);
}

function printTable(rows: string[][]) {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
