import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "./stack-checks.js";

const running = new Set<ChildProcess>();

/** `npm run policy -- <args>` in its own process group, so a failed test can end all of it. */
function npmRunPolicy(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn("npm", ["run", "--silent", "policy", "--", ...args], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.resume();
    child.on("close", (code) => {
      running.delete(child);
      done({ code, stdout });
    });
  });
}

afterEach(() => {
  for (const child of running) if (child.pid) process.kill(-child.pid, "SIGTERM");
  running.clear();
});

function row(stdout: string, policy: string): string[] {
  const line = stdout.split("\n").find((l) => l.startsWith(`${policy} `));
  return line ? line.trim().split(/\s+/).slice(1) : [];
}

describe("npm run policy", () => {
  it("prints a policy x stack table and exits 0 when only advisory policies report", async () => {
    const { code, stdout } = await npmRunPolicy([]);
    expect(stdout).toMatch(/^policy\s+dev\s+prod/m);
    expect(row(stdout, "iam-bedrock-invoke-allowlist")).toEqual(["pass", "pass"]);
    expect(stdout).toContain("no mandatory violations");
    expect(code).toBe(0);
  }, 300_000);

  it("exits 1 and marks FAIL when a stack config change breaks a mandatory policy", async () => {
    const worker = { timeoutSeconds: 900, memoryMb: 512, reservedConcurrency: 5, maximumEventAgeSeconds: 120 };
    const { code, stdout } = await npmRunPolicy(["--stack", "dev", "--overrides", JSON.stringify({ worker })]);
    expect(row(stdout, "lambda-bounded-timeout-memory")).toEqual(["FAIL"]);
    expect(stdout).toContain("FAIL dev lambda-bounded-timeout-memory: timeout is 900 s, above the bound of 300 s");
    expect(stdout).toContain("mandatory violations: deployment would be blocked");
    expect(code).toBe(1);
  }, 300_000);
});
