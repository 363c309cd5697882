/**
 * Metering end to end through the local gateway (`npm start`'s code path): `done.quota` and
 * the `usage` action over a raw AppSync Events client, and the operator commands
 * (`npm run gateway -- usage|tier`) against that gateway, as child processes.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboundEvent, Quota } from "../../functions/lib/protocol/outbound.js";
import { PROJECT_ROOT, readStackConfig } from "../../local/config.js";
import {
  answerOf,
  authHeaders,
  chatOnce,
  chatPayload,
  claimsOf,
  connectRaw,
  createUser,
  signIn,
  signInDemoUser,
  startTestGateway,
  type TestGateway,
} from "./support/gateway.js";

const run = promisify(execFile);
const dev = readStackConfig({ stack: "dev" }).config;
let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

/** `npm run gateway -- <args>` as a child process; resolves with its exit code and output. */
async function gatewayCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "tools/gateway/cli.ts", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const doneOf = (events: OutboundEvent[]) => {
  const done = events.at(-1)!;
  if (done.type !== "done") throw new Error(`expected done, got ${JSON.stringify(done)}`);
  return done;
};

describe("metering through the local gateway", () => {
  it("ends an answer with the caller's quota and answers `usage` with a quota event, over a raw WebSocket client", async () => {
    const user = await createUser(t, `quota-${randomUUID()}@example.com`);
    const client = await connectRaw(t, user.accessToken);
    try {
      const headers = authHeaders(t, user.accessToken);
      const { id } = await client.subscribe(`/Outbound-Messages/${user.sub}`, headers);
      const chat = chatPayload("Count me [[fake:tokens=6]]");
      await client.publish(`/Inbound-Messages/${user.sub}`, [chat], headers);
      const done = doneOf(await answerOf(client, id, chat.requestId));
      const limits = dev.tiers.default!.limits;
      expect(done.quota).toMatchObject({
        tier: "default",
        daily: { inputTokens: { used: done.usage.inputTokens, limit: limits.daily.inputTokens }, outputTokens: { used: 6, limit: limits.daily.outputTokens } },
        monthly: { inputTokens: { used: done.usage.inputTokens, limit: limits.monthly.inputTokens }, outputTokens: { used: 6, limit: limits.monthly.outputTokens } },
      });

      const usage = { action: "usage", requestId: randomUUID() };
      await client.publish(`/Inbound-Messages/${user.sub}`, [usage], headers);
      const message = await client.next((m) => m.type === "data" && m.id === id && JSON.parse(m.event as string).requestId === usage.requestId);
      expect(JSON.parse(message.event as string)).toEqual({ type: "quota", requestId: usage.requestId, seq: 0, quota: done.quota });
    } finally {
      await client.close();
    }
  });

  it("prints a user's usage against every limit with `npm run gateway -- usage`, found by e-mail or by sub", async () => {
    const email = `report-${randomUUID()}@example.com`;
    const user = await createUser(t, email);
    const done = doneOf(await chatOnce(t, user, "Measure me [[fake:tokens=11]]"));
    const quota = done.quota as Quota;

    const byEmail = await gatewayCli(["usage", email, "--state-dir", t.stateDir]);
    expect(byEmail.code).toBe(0);
    expect(byEmail.stdout).toContain(`sub ${user.sub}`);
    expect(byEmail.stdout).toMatch(/Tier\s+default/);
    const row = (window: string, tokens: string) => byEmail.stdout.split("\n").find((l) => l.startsWith(window) && l.includes(` ${tokens} `))!;
    const limits = dev.tiers.default!.limits;
    expect(row("daily", "output").split(/\s{2,}/).slice(2, 6)).toEqual(["11", "0", String(limits.daily.outputTokens), String(limits.daily.outputTokens - 11)]);
    expect(row("monthly", "input").split(/\s{2,}/).slice(2, 5)).toEqual([String(quota.monthly.inputTokens.used), "0", String(limits.monthly.inputTokens)]);
    expect(byEmail.stdout).toMatch(/in progress\s+0\s+2/);
    expect(byEmail.stdout).toMatch(/started in the last minute\s+1\s+10/);

    const bySub = await gatewayCli(["usage", user.sub, "--state-dir", t.stateDir]);
    expect(bySub.stdout).toBe(byEmail.stdout);
  });

  it("moves a user to another tier with `npm run gateway -- tier`, effective at their next sign-in", async () => {
    const email = `upgrade-${randomUUID()}@example.com`;
    await createUser(t, email);
    const moved = await gatewayCli(["tier", email, "pro", "--state-dir", t.stateDir]);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain("tier default -> pro");
    // The tier travels in the token's groups: a new sign-in carries it.
    const fresh = await signIn(t, email, "Test-User-Passw0rd!");
    expect(claimsOf(fresh.accessToken)["cognito:groups"]).toEqual(["pro"]);
    expect(doneOf(await chatOnce(t, fresh, "Am I pro? [[fake:tokens=2]]")).quota).toMatchObject({ tier: "pro", daily: { outputTokens: { limit: dev.tiers.pro!.limits.daily.outputTokens } } });

    // Back to default: the pro group goes.
    expect((await gatewayCli(["tier", email, "default", "--state-dir", t.stateDir])).stdout).toContain("tier pro -> default");
    expect(claimsOf((await signIn(t, email, "Test-User-Passw0rd!")).accessToken)["cognito:groups"]).toEqual(["default"]);
  });

  it("refuses unknown tiers and users with a clear message and a failing exit code", async () => {
    const pro = await signInDemoUser(t, "pro");
    const badTier = await gatewayCli(["tier", pro.sub, "platinum", "--state-dir", t.stateDir]);
    expect(badTier).toMatchObject({ code: 1, stdout: "" });
    expect(badTier.stderr).toContain('"platinum" is not a tier of stack dev; tiers: default, pro.');
    const nobody = await gatewayCli(["usage", "nobody@example.com", "--state-dir", t.stateDir]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/No user "nobody@example.com"/);
  });
});

describe("npm run gateway against a deployed stack", () => {
  const noCredentials = {
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
    AWS_PROFILE: "",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_EC2_METADATA_DISABLED: "true",
    PATH: "/nonexistent",
  };

  it("says which flags to pass when the Pulumi CLI cannot name the stack's resources", async () => {
    const result = await gatewayCli(["usage", "someone@example.com", "--stack", "dev"], { PATH: "/nonexistent" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Pass --usage-table <name> and --user-pool-id <id>");
  });

  it("says how to sign in when no AWS credentials are found", async () => {
    const result = await gatewayCli(["usage", "someone@example.com", "--stack", "prod", "--usage-table", "t", "--user-pool-id", "us-east-1_x"], noCredentials);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No AWS credentials found for stack "prod"');
  });
});
