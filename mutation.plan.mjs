// @ts-check
/**
 * The plan of `npm run mutation`: the mutation scope, cut into groups of source files, each with
 * the test files that exercise it. A group's mutants run against its tests only
 * (tools/vitest.mutation.config.ts narrows vitest's `include`), not against every test that
 * imports the file: through the worker harness nearly every module reaches the end-to-end tests,
 * which start servers, and running ~6,000 mutants against those takes most of a day here.
 *
 * stryker.config.mjs's `mutate` is the union of the groups' `mutate`, so a file in the scope
 * always belongs to a group. A group's tests are the unit and component tests of its files;
 * whole-program runs (tests/infra/devStack, tests/policies/dev-stack, the e2e and reliability
 * suites) are left out on purpose: they cost seconds per mutant and kill little the unit tests
 * do not.
 *
 * `timeoutMS` (optional) replaces stryker.config.mjs's 60 s allowance per mutant for groups whose
 * tests start no server: a mutant that loops forever then costs seconds, not a minute.
 *
 * @type {{ name: string; mutate: string[]; tests: string[]; timeoutMS?: number }[]}
 */
export default [
  {
    name: "policies",
    timeoutMS: 15_000,
    // index.ts only registers the pack with the engine; run.ts and check-stack.ts are CLI processes.
    mutate: ["policies/**/*.ts", "!policies/index.ts", "!policies/run.ts", "!policies/check-stack.ts"],
    // Not run.test (spawns `npm run policy` per test), pack-loading (a ts-node process, 6 s) nor
    // dev-/prod-stack (a whole mocked program): static mutants run every test of the group.
    tests: [
      "tests/policies/{alarms,analytics,appsync,boundaries,cloudfront,data-stores,evaluate,evaluate-engine,geo-table,guardrail}.test.ts",
      "tests/policies/{iam,identity-and-logs,lambda,pack-config,policy-metadata,s3,stack-config,tags,waf}.test.ts",
      "tests/policies/support-*.test.ts",
    ],
  },
  {
    name: "components",
    timeoutMS: 15_000,
    mutate: ["components/lib/**/*.ts"],
    tests: ["tests/infra/{bedrockArns,identityProviders,providerArgs,bundle,iamDocuments}.test.ts"],
  },
  {
    name: "local-auth",
    timeoutMS: 15_000,
    mutate: ["local/events/auth.ts", "local/events/sigv4-auth.ts", "local/events/cognito-auth.ts", "local/events/channels.ts"],
    tests: ["tests/local/{events-auth,events-authentication,events-refusals}.test.ts"],
  },
  {
    name: "config",
    timeoutMS: 15_000,
    mutate: ["functions/lib/config/**/*.ts", "functions/lib/schema-support.ts"],
    tests: ["tests/functions/{config-schema,config-load,config-bounds,lean-startup}.test.ts", "tests/infra/{configRules,configReference}.test.ts"],
  },
  {
    name: "protocol",
    timeoutMS: 15_000,
    mutate: ["functions/lib/protocol/**/*.ts", "functions/lib/appsync/**/*.ts", "functions/lib/subscribe.ts"],
    tests: ["tests/functions/{protocol-bounds,protocol-rules,channels,subscribe}.test.ts"],
  },
  {
    name: "metering",
    mutate: ["functions/lib/metering/**/*.ts"],
    tests: ["tests/functions/metering/*.test.ts"],
  },
  {
    name: "analytics",
    mutate: ["functions/lib/analytics/**/*.ts", "functions/lib/observability/**/*.ts"],
    tests: ["tests/functions/{analytics-record,analytics-recorder,analytics-delivery,analytics-turns,model-metrics}.test.ts", "tests/tools/analytics-queries.test.ts", "tests/infra/analytics.test.ts"],
  },
  {
    name: "cache+conversations",
    mutate: ["functions/lib/cache/**/*.ts", "functions/lib/conversations/**/*.ts"],
    tests: ["tests/functions/{prepared-cache,prepared-store,cache-command,conversations,conversation-context,conversation-store}.test.ts"],
  },
  {
    name: "relay",
    // Its tests' servers are in-process HTTP stubs; a mutant that hangs a publish costs seconds, not a minute.
    timeoutMS: 15_000,
    mutate: ["functions/lib/relay/**/*.ts"],
    tests: ["tests/functions/{relay,publisher}.test.ts"],
  },
  {
    name: "worker",
    mutate: [
      "functions/lib/{worker,bedrock,cancel,guardrail,routing}/**/*.ts",
      "functions/lib/{dead-letters,env,runtime,tables,lambda-credentials}.ts",
    ],
    tests: [
      // Not model-timeouts (real 3 s deadlines per test).
      "tests/functions/{chat-worker,cancel,running-answers,guardrail,dead-letters,model-access,model-call}.test.ts",
      "tests/functions/{idempotency-store-failures,log-previews,turn-round-trips,lean-startup,tier-routing}.test.ts",
      // The worker's own paths for the usage, conversation and cache actions and a cache hit
      // (inbound.ts, chat.ts): without them those branches have no coverage in this group.
      "tests/functions/{conversations,prepared-cache}.test.ts",
      "tests/functions/metering/worker.test.ts",
      // What operators see of each outcome (log lines, metrics). Not analytics-recorder: it writes
      // Parquet through DuckDB per turn, and reaches only inbound.ts's beginTurn call.
      "tests/functions/{worker-reporting,chat-turn-reporting}.test.ts",
      // The request claim, the model fallback and the turn's reads alone; the publisher built from the environment (runtime.ts).
      "tests/functions/{request-claim,open-stream,turn-reads,publisher}.test.ts",
    ],
  },
];
