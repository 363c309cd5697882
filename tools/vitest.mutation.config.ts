/**
 * The vitest config of `npm run mutation -- --tests <glob>...`: the project's config with its
 * test files narrowed to MUTATION_TESTS (a JSON array of globs, which may hold commas in braces), so a module's mutants run
 * against its own tests instead of every test that imports it (servers, DynamoDB Local).
 *
 * Why not Stryker's own `testFiles` option: with it, Stryker gives every mutant a test filter,
 * so module-level mutants (constants, regexes) are activated only after the module has been
 * imported and always survive (StrykerJS 10 with vitest 4.1). Narrowing vitest's `include`
 * leaves no filter, and those mutants are activated before the import, as without narrowing.
 */
import base from "../vitest.config.js";

const tests: string[] = process.env.MUTATION_TESTS ? JSON.parse(process.env.MUTATION_TESTS) : [];

export default tests.length ? { ...base, test: { ...base.test, include: tests } } : base;
