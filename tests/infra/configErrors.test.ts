/**
 * Bad stack config stops the program before any resource registers, with a message naming the
 * key. Each case is a separate process: a mocked Pulumi run may happen once per process.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it, type ExpectStatic } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Summary {
  ok: boolean;
  message?: string;
  resourceCount: number;
}

function mockedRun(stack: "dev" | "prod", overrides: Record<string, unknown>): Promise<{ code: number; summary: Summary }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", "tools/mocked-stack-cli.ts", "--stack", stack, "--overrides", JSON.stringify(overrides)],
      { cwd: ROOT, timeout: 120_000 },
      (err, stdout) => {
        const line = stdout.trim().split("\n").pop();
        if (!line) return reject(err ?? new Error("no output from the mocked run"));
        resolve({ code: child.exitCode ?? -1, summary: JSON.parse(line) as Summary });
      },
    );
  });
}

async function expectRefused(expect: ExpectStatic, stack: "dev" | "prod", overrides: Record<string, unknown>, expected: string) {
  const { code, summary } = await mockedRun(stack, overrides);
  expect(code).toBe(1);
  expect(summary.ok).toBe(false);
  expect(summary.message).toContain(expected);
  // A RunError: the operator sees the problems, not a stack trace.
  expect(summary.message).not.toMatch(/\n\s+at /);
  expect(summary.resourceCount).toBe(0);
}

// Each case waits on its own child process; running them side by side halves the wait.
describe.concurrent("stack config errors", () => {
  it("refuses an unknown key, naming it", async ({ expect }) => {
    await expectRefused(expect, "dev", { colour: "blue" }, "ai-gateway:colour: unknown key");
  });

  it("refuses a bad nested value, naming its full key path", async ({ expect }) => {
    const tiers = {
      default: {
        priority: 0,
        models: ["*"],
        limits: { daily: { inputTokens: -5, outputTokens: 20000 }, monthly: { inputTokens: 100000, outputTokens: 200000 } },
        maxOutputTokensPerRequest: 2048,
        maxConcurrentRequests: 2,
      },
    };
    await expectRefused(expect, "prod", { tiers }, "ai-gateway:tiers.default.limits.daily.inputTokens");
  });

  it("refuses US inference profiles in a European region", async ({ expect }) => {
    await expectRefused(expect, "dev", { "aws:region": "eu-west-1" }, "cannot be called from region eu-west-1");
  });

  it("refuses a stack without aws:region", async ({ expect }) => {
    await expectRefused(expect, "dev", { "aws:region": null }, "aws:region: required");
  });

  it("refuses an aws: key the stack's AWS provider cannot take, naming it", async ({ expect }) => {
    await expectRefused(expect, "prod", { "aws:profil": "gateway-prod" }, "aws:profil: unknown key");
  });

  it("refuses a malformed aws: setting, naming its path", async ({ expect }) => {
    await expectRefused(expect, "dev", { "aws:allowedAccountIds": [123456789012] }, "aws:allowedAccountIds.0: expected a quoted 12-digit account id");
  });

  it("runs the unmodified dev stack to completion", async ({ expect }) => {
    const { code, summary } = await mockedRun("dev", {});
    expect(code).toBe(0);
    expect(summary.ok).toBe(true);
    expect(summary.resourceCount).toBeGreaterThan(30);
  });
});
