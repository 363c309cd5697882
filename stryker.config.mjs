// @ts-check
import plan from "./mutation.plan.mjs";

/**
 * `npm run mutation`: Stryker over the code whose mistakes a test must catch: the functions'
 * logic, the components' helpers, the policy pack and local mode's auth. Incremental: a rerun
 * mutates only what changed since reports/mutation/incremental.json (gitignored), so the
 * first run is long (run it on a quiet machine) and later ones are cheap.
 * `npm run mutation` runs the plan's groups in turn (tools/mutation.mjs); `-- --group <name>`
 * runs one, `-- --mutate <file> --tests <test file>` one file against chosen tests.
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.config.ts", related: true },
  plugins: ["@stryker-mutator/vitest-runner"],
  // The scope: every group of mutation.plan.mjs (functions/lib, components/lib, policies/, local auth).
  mutate: plan.flatMap((group) => group.mutate),
  incremental: true,
  incrementalFile: "reports/mutation/incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  // Local state (certificates, endpoints.json, persisted tables) has no place in a sandbox.
  ignorePatterns: [".local"],
  // Two cores shared with the servers the tests start.
  concurrency: 1,
  // Tests start DynamoDB Local and servers; give a mutant's run room on a loaded machine.
  timeoutMS: 60_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 85, break: null },
  // The vitest runner reports per-test coverage, so each mutant runs only the tests that reach it.
  coverageAnalysis: "perTest",
  cleanTempDir: "always",
};
