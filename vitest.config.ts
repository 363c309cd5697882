import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/dynamodb-global.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files start their own servers on free loopback ports; two cores, so two at a time.
    maxWorkers: 2,
    pool: "forks",
    // Handlers log JSON and EMF to stdout; show it only for failing tests.
    silent: "passed-only",
  },
});
