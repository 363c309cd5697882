/**
 * One stack's policy run in its own process (Pulumi's runtime is global, so one mocked
 * program run per process): runs the program under mocks with the stack's real config,
 * evaluates the pack, and prints `{ ok, stack, outcomes | message }` as JSON on stdout.
 *
 *   tsx policies/check-stack.ts --stack dev [--policy-config file.json] [--overrides '{"waf":{...}}']
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { evaluatePolicies, type PackConfig } from "./evaluate";

async function main() {
  const { values } = parseArgs({
    options: { stack: { type: "string", default: "dev" }, "policy-config": { type: "string" }, overrides: { type: "string" } },
  });
  const stack = values.stack;
  if (stack !== "dev" && stack !== "prod") throw new Error(`--stack must be dev or prod, not ${stack}`);
  const configFile = values["policy-config"] ?? resolve(__dirname, `config.${stack}.json`);
  const config = JSON.parse(readFileSync(configFile, "utf8")) as PackConfig;
  // The program is native ESM; this module is CommonJS (the pack's package), hence import().
  const { runMockedStack } = await import("../tools/mocked-stack.js");
  const overrides = values.overrides ? (JSON.parse(values.overrides) as Record<string, unknown>) : undefined;
  const { resources } = await runMockedStack({ stack, configOverrides: overrides });
  const outcomes = await evaluatePolicies(resources, config);
  process.stdout.write(`${JSON.stringify({ ok: true, stack, outcomes })}\n`);
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ ok: false, message: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
});
