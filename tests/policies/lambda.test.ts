import { describe, expect, it } from "vitest";
import { changed, compliantStack, lambdaFunction, resource, violations, withInputs } from "./fixtures.js";

describe("lambda-approved-runtime", () => {
  it("refuses a runtime outside the approved list", async () => {
    expect(await violations("lambda-approved-runtime", withInputs("worker-function", { runtime: "nodejs18.x" }))).toEqual([
      expect.stringContaining('runtime is "nodejs18.x"; approved: nodejs22.x'),
    ]);
  });

  it("names every approved runtime in its message", async () => {
    const config = { "lambda-approved-runtime": { approvedRuntimes: ["nodejs22.x", "nodejs24.x"] } };
    expect(await violations("lambda-approved-runtime", withInputs("worker-function", { runtime: "python3.12" }), config)).toEqual([
      'runtime is "python3.12"; approved: nodejs22.x, nodejs24.x. To fix: set runtime to an approved one',
    ]);
  });

  it("accepts a runtime the stack's config approves", async () => {
    const config = { "lambda-approved-runtime": { approvedRuntimes: ["nodejs22.x", "nodejs24.x"] } };
    expect(await violations("lambda-approved-runtime", withInputs("worker-function", { runtime: "nodejs24.x" }), config)).toEqual([]);
  });
});

describe("lambda-arm64", () => {
  it("refuses x86_64, including the default when architectures is unset", async () => {
    expect(await violations("lambda-arm64", withInputs("worker-function", { architectures: ["x86_64"] }))).toEqual([expect.stringContaining('architectures is ["x86_64"]')]);
    expect(await violations("lambda-arm64", withInputs("worker-function", { architectures: undefined }))).toEqual([expect.stringContaining('architectures is ["x86_64"]')]);
  });
});

describe("lambda-bounded-timeout-memory", () => {
  it("refuses a timeout and a memory size above the stack's bounds", async () => {
    const found = await violations("lambda-bounded-timeout-memory", withInputs("worker-function", { timeout: 900, memorySize: 4096 }));
    expect(found).toEqual([expect.stringContaining("timeout is 900 s, above the bound of 300 s"), expect.stringContaining("memorySize is 4096 MB, above the bound of 1024 MB")]);
  });
});

describe("lambda-log-group-retention", () => {
  it("refuses a function whose log group the stack does not manage", async () => {
    const stack = changed("worker-logs", () => undefined);
    expect(await violations("lambda-log-group-retention", stack)).toEqual([
      expect.stringContaining('function worker-function logs to "/aws/lambda/worker", which this stack does not manage'),
    ]);
  });

  it("refuses a function whose default log group keeps logs forever", async () => {
    const fn = lambdaFunction("reporter", { loggingConfig: undefined });
    const group = resource("aws:cloudwatch/logGroup:LogGroup", "reporter-logs", { name: "/aws/lambda/reporter" });
    expect(await violations("lambda-log-group-retention", [...compliantStack(), fn, group])).toEqual([
      expect.stringContaining('function reporter-function logs to "/aws/lambda/reporter", which keeps logs forever'),
    ]);
  });
});

describe("lambda-async-failure-handling", () => {
  it("refuses an AppSync EVENT handler without an event-invoke config", async () => {
    const stack = changed("worker-async", () => undefined);
    expect(await violations("lambda-async-failure-handling", stack)).toEqual([
      expect.stringContaining("function worker-function is invoked asynchronously (AppSync Inbound-Messages onPublish (EVENT)) but has no event-invoke config"),
    ]);
  });

  it("refuses an invoke config without on-failure destination, with a long event age and default retries", async () => {
    const stack = withInputs("worker-async", { destinationConfig: undefined, maximumEventAgeInSeconds: 21600, maximumRetryAttempts: undefined });
    expect(await violations("lambda-async-failure-handling", stack)).toEqual([
      expect.stringContaining("has no on-failure destination"),
      expect.stringContaining("maximumEventAgeInSeconds is 21600, above 300"),
      expect.stringContaining("maximumRetryAttempts is unset (2), above 0"),
    ]);
  });

  it.each(["sns.amazonaws.com", "s3.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com", "ses.amazonaws.com"])("treats a function %s may invoke as asynchronously invoked", async (principal) => {
    const notifier = lambdaFunction("notifier");
    const logs = resource("aws:cloudwatch/logGroup:LogGroup", "notifier-logs", { name: "/aws/lambda/notifier", retentionInDays: 30 });
    const permission = resource("aws:lambda/permission:Permission", "notifier-invoke", { function: "notifier", principal, action: "lambda:InvokeFunction" });
    expect(await violations("lambda-async-failure-handling", [...compliantStack(), notifier, logs, permission])).toEqual([
      expect.stringContaining(`function notifier-function is invoked asynchronously (${principal} permission notifier-invoke) but has no event-invoke config`),
    ]);
  });
});

describe("lambda policies, case by case", () => {
  it("leaves container-image functions to their image, and checks only functions", async () => {
    expect(await violations("lambda-approved-runtime", withInputs("worker-function", { packageType: "Image", runtime: undefined }))).toEqual([]);
    expect(await violations("lambda-approved-runtime", withInputs("worker-function", { packageType: "Zip", runtime: "nodejs18.x" }))).toHaveLength(1);
    expect(await violations("lambda-approved-runtime", withInputs("worker-errors", { runtime: "nodejs18.x" }))).toEqual([]);
    expect(await violations("lambda-arm64", withInputs("worker-errors", { architectures: ["x86_64"] }))).toEqual([]);
    expect(await violations("lambda-bounded-timeout-memory", withInputs("worker-errors", { timeout: 900, memorySize: 4096 }))).toEqual([]);
  });

  it("says when no runtime is set at all", async () => {
    expect(await violations("lambda-approved-runtime", withInputs("worker-function", { runtime: undefined }))).toEqual([
      "runtime is not set; approved: nodejs22.x. To fix: set runtime to an approved one",
    ]);
  });

  it("wants exactly one architecture, arm64", async () => {
    expect(await violations("lambda-arm64", withInputs("worker-function", { architectures: ["arm64", "x86_64"] }))).toEqual([
      'architectures is ["arm64","x86_64"]. To fix: set architectures to ["arm64"]',
    ]);
    expect(await violations("lambda-arm64", withInputs("worker-function", { architectures: "arm64" }))).toHaveLength(1);
  });

  it("refuses an unset event age, and accepts one at the bound", async () => {
    expect(await violations("lambda-async-failure-handling", withInputs("worker-async", { maximumEventAgeInSeconds: undefined }))).toEqual([
      expect.stringContaining("maximumEventAgeInSeconds is unset (6 hours), above 300"),
    ]);
    expect(await violations("lambda-async-failure-handling", withInputs("worker-async", { maximumEventAgeInSeconds: 300, maximumRetryAttempts: 0 }))).toEqual([]);
  });
});
