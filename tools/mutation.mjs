/**
 * `npm run mutation`: Stryker with stryker.config.mjs, group by group as mutation.plan.mjs
 * says (each group's files against its own tests), then one table per group and overall,
 * also written to reports/mutation/summary.json. All groups share the incremental file, so a
 * rerun tests only the mutants whose code or tests changed.
 *
 *   npm run mutation                               every group of the plan
 *   npm run mutation -- --group metering           one group (repeatable)
 *   npm run mutation -- --mutate <file> [--tests <test glob>...]   a one-off run
 *   ... --force                                    ignore the incremental file for this run
 *   ... --concurrency 2                            test-runner processes (the config says 1)
 *   ... --ignore-static                            skip static mutants (module-level code, which runs
 *                                                  every test of the group each): a quick pass over the rest
 *   npm run mutation -- --summary                  the table from the incremental file, running nothing
 *                                                  (also after an interrupted run: Ctrl-C saves its results)
 *   npm run mutation -- --unlisted                 the survivors in the incremental file that
 *                                                  docs/mutation-survivors.md does not list (exit 1 if any),
 *                                                  and the lines it lists that no survivor is on any more
 *
 * StrykerJS 10's CLI refuses to start below Node 22 (its package says `engines: >=22`), while
 * this project runs on Node 20 (DESIGN 9) and Stryker's own code runs there. This runner
 * starts Stryker's engine directly, which skips only that start-up check.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, matchesGlob, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import plan from "../mutation.plan.mjs";

const { values } = parseArgs({
  options: {
    group: { type: "string", multiple: true },
    mutate: { type: "string", multiple: true },
    tests: { type: "string", multiple: true },
    config: { type: "string", default: "stryker.config.mjs" },
    force: { type: "boolean", default: false },
    concurrency: { type: "string" },
    "ignore-static": { type: "boolean", default: false },
    summary: { type: "boolean", default: false },
    unlisted: { type: "boolean", default: false },
  },
});
const corePackage = createRequire(import.meta.url).resolve("@stryker-mutator/core/package.json");
// The package exports only its CLI entry, whose import runs the version check; a file URL reaches the engine itself.
const { Stryker } = await import(pathToFileURL(join(dirname(corePackage), "dist/src/stryker.js")).href);

/** One Stryker run over `mutate` (the config's scope when absent) against `tests` (the related set when absent). */
async function run({ name, mutate, tests, timeoutMS }) {
  // Stryker's test-runner processes inherit the environment, so the narrowed config sees the list.
  if (tests) process.env.MUTATION_TESTS = JSON.stringify(tests);
  else delete process.env.MUTATION_TESTS;
  const reportDir = `reports/mutation/${name.replace(/[^\w-]+/g, "-")}`;
  const options = {
    configFile: values.config,
    ...(mutate ? { mutate } : {}),
    ...(tests ? { vitest: { configFile: "tools/vitest.mutation.config.ts", related: true } } : {}),
    // --force ignores the incremental file for this run (its results are still written back).
    ...(values.force ? { force: true } : {}),
    ...(timeoutMS ? { timeoutMS } : {}),
    // --concurrency N overrides the config's 1 on a machine with nothing else to do.
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values["ignore-static"] ? { ignoreStatic: true } : {}),
    htmlReporter: { fileName: `${reportDir}/index.html` },
    jsonReporter: { fileName: `${reportDir}/mutation.json` },
  };
  const started = Date.now();
  const results = await new Stryker(options).runMutationTest();
  // Stryker also returns the incremental file's results of files outside this run; count the group's own.
  const own = mutate ? results.filter((r) => inScope(relative(process.cwd(), r.fileName), mutate)) : results;
  return { name, seconds: Math.round((Date.now() - started) / 1000), ...count(own) };
}

/** A group's row from the last results the incremental file holds (mutants never run are not in it). */
function fromIncrementalFile({ name, mutate }) {
  const { files } = JSON.parse(readFileSync("reports/mutation/incremental.json", "utf8"));
  const results = Object.entries(files).flatMap(([file, { mutants }]) => (inScope(file, mutate) ? mutants : []));
  return { name, seconds: null, ...count(results) };
}

/** Whether a file matches a Stryker `mutate` list: one of its globs, and none of its `!` globs. */
function inScope(file, patterns) {
  const [excluded, included] = [patterns.filter((p) => p.startsWith("!")), patterns.filter((p) => !p.startsWith("!"))];
  return included.some((p) => matchesGlob(file, p)) && !excluded.some((p) => matchesGlob(file, p.slice(1)));
}

/** Mutants by status; compile and runtime errors and ignored mutants are not part of the score. */
function count(results) {
  const by = (status) => results.filter((r) => r.status === status).length;
  const row = { mutants: results.length, killed: by("Killed"), survived: by("Survived"), noCoverage: by("NoCoverage"), timeout: by("Timeout"), errors: by("CompileError") + by("RuntimeError") + by("Ignored") };
  return withScore(row);
}

function withScore(row) {
  const scored = row.killed + row.timeout + row.survived + row.noCoverage;
  return { ...row, score: scored ? Number(((100 * (row.killed + row.timeout)) / scored).toFixed(1)) : null };
}

function total(rows) {
  const sum = (key) => rows.reduce((s, r) => s + (r[key] ?? 0), 0);
  return withScore({ name: "overall", seconds: sum("seconds"), mutants: sum("mutants"), killed: sum("killed"), survived: sum("survived"), noCoverage: sum("noCoverage"), timeout: sum("timeout"), errors: sum("errors") });
}

function print(rows) {
  const columns = ["name", "mutants", "killed", "survived", "noCoverage", "timeout", "errors", "score", "seconds"];
  const cells = rows.map((r) => columns.map((c) => (c === "score" && r.score !== null ? `${r.score.toFixed(1)}%` : String(r[c] ?? "n/a"))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (row) => row.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(["", line(columns), ...cells.map(line)].join("\n"));
}

/**
 * Every survivor (or mutant with no coverage) of the groups must be listed in
 * docs/mutation-survivors.md with its reason: under a `### <file>` heading, a bullet naming
 * its line (`- L38, L93-95: reason`). Prints the unlisted ones and the listed lines no survivor
 * is on (killed since, or the code moved); returns the exit code.
 */
function checkListing(selected) {
  const LISTING = "docs/mutation-survivors.md";
  const listed = new Map();
  let file = null;
  for (const text of readFileSync(LISTING, "utf8").split("\n")) {
    const heading = /^### `?([^`\s]+)`?/.exec(text);
    if (heading) file = heading[1];
    const bullet = /^- ((?:L\d+(?:-\d+)?(?:, )?)+):/.exec(text);
    if (!file || !bullet) continue;
    for (const [, from, to] of bullet[1].matchAll(/L(\d+)(?:-(\d+))?/g))
      for (let line = Number(from); line <= Number(to ?? from); line++) listed.set(`${file}:${line}`, false);
  }
  const { files } = JSON.parse(readFileSync("reports/mutation/incremental.json", "utf8"));
  const unlisted = [];
  for (const [name, { mutants }] of Object.entries(files)) {
    if (!selected.some((g) => inScope(name, g.mutate))) continue;
    for (const m of mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage")) {
      const key = `${name}:${m.location.start.line}`;
      if (listed.has(key)) listed.set(key, true);
      else unlisted.push(`${key}:${m.location.start.column} ${m.status} ${m.mutatorName} -> ${JSON.stringify(m.replacement)}`);
    }
  }
  const inSelected = (key) => selected.some((g) => inScope(key.replace(/:\d+$/, ""), g.mutate));
  const stale = [...listed].filter(([key, seen]) => !seen && inSelected(key)).map(([key]) => key);
  console.log(unlisted.length ? `Not listed in ${LISTING} (${unlisted.length}):\n${unlisted.join("\n")}` : `Every survivor is listed in ${LISTING}.`);
  if (stale.length) console.log(`Listed lines with no survivor now (${stale.length}):\n${stale.join("\n")}`);
  return unlisted.length ? 1 : 0;
}

const oneOff = values.mutate || values.tests;
const unknown = (values.group ?? []).filter((g) => !plan.some((p) => p.name === g));
if (unknown.length) throw new Error(`no group ${unknown.join(", ")} in mutation.plan.mjs (groups: ${plan.map((p) => p.name).join(", ")})`);
const groups = oneOff ? [{ name: "one-off", mutate: values.mutate, tests: values.tests }] : plan.filter((p) => !values.group || values.group.includes(p.name));

const SUMMARY = "reports/mutation/summary.json";
if (values.unlisted) process.exit(checkListing(groups));
const fresh = [];
if (values.summary) for (const group of groups) fresh.push(fromIncrementalFile(group));
else for (const group of groups) fresh.push(await run(group));
if (oneOff || values.summary) print([...fresh, total(fresh)]);
else {
  // A run of some groups replaces their rows in the summary and keeps the others' last rows.
  const before = existsSync(SUMMARY) ? JSON.parse(readFileSync(SUMMARY, "utf8")).groups : [];
  const rows = plan.map((p) => fresh.find((r) => r.name === p.name) ?? before.find((r) => r.name === p.name)).filter(Boolean);
  const summary = { at: new Date().toISOString(), groups: rows, overall: total(rows) };
  print([...rows, summary.overall]);
  mkdirSync(dirname(SUMMARY), { recursive: true });
  writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
}
