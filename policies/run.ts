/**
 * `npm run policy`: the pack over the mocked dev and prod stacks, one child process per stack
 * (a mocked program run is once per process). Prints a policy x stack table and every
 * violation and not-applicable note; exits 1 on a mandatory violation, 2 when a stack could not be evaluated.
 *
 *   npm run policy [-- --stack dev] [--policy-config file.json] [--overrides '{"worker":{...}}']
 *
 * `--policy-config` and `--overrides` (stack config values, as in tools/mocked-stack.ts)
 * apply to every stack run; they let operators try a change before committing it.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { blockingOutcomes, type PolicyOutcome } from "./evaluate";

type StackResult = { ok: true; stack: string; outcomes: PolicyOutcome[] } | { ok: false; stack: string; message: string };

function checkStack(stack: string, passThrough: string[]): Promise<StackResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", resolve(__dirname, "check-stack.ts"), "--stack", stack, ...passThrough], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", () => {
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        const parsed = JSON.parse(line) as { ok: boolean; outcomes?: PolicyOutcome[]; message?: string };
        done(parsed.ok ? { ok: true, stack, outcomes: parsed.outcomes ?? [] } : { ok: false, stack, message: parsed.message ?? "unknown error" });
      } catch {
        done({ ok: false, stack, message: `the stack run printed no result${stderr ? `: ${stderr.trim().split("\n")[0]}` : ""}` });
      }
    });
  });
}

function cell(outcome: PolicyOutcome | undefined): string {
  if (!outcome) return "-";
  if (outcome.enforcementLevel === "disabled") return "disabled";
  if (outcome.notApplicable !== undefined) return "n/a";
  if (!outcome.violations.length) return "pass";
  return outcome.enforcementLevel === "advisory" ? "advisory" : "FAIL";
}

export function formatTable(results: readonly StackResult[]): string {
  const policies = [...new Set(results.flatMap((r) => (r.ok ? r.outcomes.map((o) => o.policy) : [])))];
  const width = Math.max("policy".length, ...policies.map((p) => p.length)) + 2;
  const header = "policy".padEnd(width) + results.map((r) => r.stack.padEnd(10)).join("");
  const rows = policies.map((policy) => policy.padEnd(width) + results.map((r) => (r.ok ? cell(r.outcomes.find((o) => o.policy === policy)) : "ERROR").padEnd(10)).join(""));
  return [header, "-".repeat(header.length), ...rows].join("\n");
}

async function main() {
  const { values } = parseArgs({
    options: { stack: { type: "string", multiple: true }, "policy-config": { type: "string" }, overrides: { type: "string" } },
  });
  const stacks = values.stack ?? ["dev", "prod"];
  const passThrough = [
    ...(values["policy-config"] ? ["--policy-config", resolve(values["policy-config"])] : []),
    ...(values.overrides ? ["--overrides", values.overrides] : []),
  ];
  const results = await Promise.all(stacks.map((stack) => checkStack(stack, passThrough)));
  console.log(formatTable(results));
  let exitCode = 0;
  for (const result of results) {
    if (!result.ok) {
      console.log(`\nERROR ${result.stack}: ${result.message}`);
      exitCode = 2;
      continue;
    }
    for (const outcome of result.outcomes.filter((o) => o.violations.length && o.enforcementLevel !== "disabled")) {
      const label = blockingOutcomes([outcome]).length ? "FAIL" : "advisory";
      for (const v of outcome.violations) console.log(`\n${label} ${result.stack} ${outcome.policy}: ${v.message}${v.urn ? `\n    at ${v.urn}` : ""}`);
    }
    for (const outcome of result.outcomes.filter((o) => o.notApplicable !== undefined)) {
      console.log(`\nnot applicable ${result.stack} ${outcome.policy}: ${outcome.notApplicable}`);
    }
    if (exitCode === 0 && blockingOutcomes(result.outcomes).length) exitCode = 1;
  }
  const summary = exitCode === 0 ? "no mandatory violations" : exitCode === 1 ? "mandatory violations: deployment would be blocked" : "a stack could not be evaluated";
  console.log(`\n${summary}`);
  process.exitCode = exitCode;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
});
