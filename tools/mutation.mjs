/**
 * `npm run mutation [-- --mutate <file>...] [-- --tests <glob>...] [-- --force]`: Stryker with
 * stryker.config.mjs. `--tests` runs the mutants against those test files only
 * (tools/vitest.mutation.config.ts says why not Stryker's `testFiles`).
 *
 * StrykerJS 10's CLI refuses to start below Node 22 (its package says `engines: >=22`), while
 * this project runs on Node 20 (DESIGN 9) and Stryker's own code runs there. This runner
 * starts Stryker's engine directly, which skips only that start-up check; on Node 22 and later
 * it does exactly what `stryker run stryker.config.mjs` does.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { mutate: { type: "string", multiple: true }, tests: { type: "string", multiple: true }, config: { type: "string", default: "stryker.config.mjs" }, force: { type: "boolean", default: false } } });
const corePackage = createRequire(import.meta.url).resolve("@stryker-mutator/core/package.json");
// The package exports only its CLI entry, whose import runs the version check; a file URL reaches the engine itself.
const { Stryker } = await import(pathToFileURL(join(dirname(corePackage), "dist/src/stryker.js")).href);
// Stryker's test-runner processes inherit the environment, so the narrowed config sees the list.
if (values.tests) process.env.MUTATION_TESTS = values.tests.join(",");
const vitest = values.tests ? { vitest: { configFile: "tools/vitest.mutation.config.ts", related: true } } : {};
// --force ignores the incremental file for this run (its results are still written back).
const options = { configFile: values.config, ...(values.mutate ? { mutate: values.mutate } : {}), ...(values.force ? { force: true } : {}), ...vitest };
const results = await new Stryker(options).runMutationTest();
const counted = results.filter((r) => r.status !== "Ignored" && r.status !== "CompileError" && r.status !== "RuntimeError");
const detected = counted.filter((r) => r.status === "Killed" || r.status === "Timeout").length;
console.log(`mutation score: ${counted.length ? ((100 * detected) / counted.length).toFixed(1) : "n/a"}% (${detected} of ${counted.length} mutants detected)`);
