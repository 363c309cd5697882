/**
 * One mocked run in its own process (runMockedStack may run once per process), summarised as
 * JSON on stdout: `{ ok, message?, resourceCount, types, outputs? }`. Exit code 0 when the
 * program ran, 1 when it failed (bad config, for one).
 *
 *   node --import tsx tools/mocked-stack-cli.ts --stack dev [--overrides '{"waf":{"enabled":true}}']
 */
import { parseArgs } from "node:util";
import { MockedStackError, runMockedStack } from "./mocked-stack.js";

const { values } = parseArgs({
  options: { stack: { type: "string", default: "dev" }, overrides: { type: "string" }, "config-file": { type: "string" } },
});
const stack = values.stack;
if (stack !== "dev" && stack !== "prod") {
  process.stderr.write(`--stack must be dev or prod, not ${stack}\n`);
  process.exit(2);
}

try {
  const result = await runMockedStack({
    stack,
    configOverrides: values.overrides ? (JSON.parse(values.overrides) as Record<string, unknown>) : undefined,
    configFile: values["config-file"],
  });
  const types = [...new Set(result.resources.map((r) => r.type))].sort();
  process.stdout.write(`${JSON.stringify({ ok: true, resourceCount: result.resources.length, types, outputs: result.outputs })}\n`);
} catch (err) {
  const resources = err instanceof MockedStackError ? err.resources : [];
  const message = err instanceof Error ? err.message : String(err);
  process.stdout.write(`${JSON.stringify({ ok: false, message, resourceCount: resources.length, types: [] })}\n`);
  process.exitCode = 1;
}
