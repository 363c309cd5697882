import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStackConfig } from "../../local/config.js";
import { claimsOf, chatOnce, type TestGateway, signInDemoUser, startTestGateway } from "./support/gateway.js";

const ROOT = join(import.meta.dirname, "../..");
const AMPLIFY_CHAT = join(import.meta.dirname, "support/amplify-chat.ts");

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway();
});

afterAll(async () => {
  await t?.close();
});

/** Runs the Amplify client in its own Node process, trusting the local CA the documented way. */
async function runAmplifyChat(username: string, password: string): Promise<{ code: number | null; steps: Record<string, any>[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", AMPLIFY_CHAT], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: t.gateway.endpoints.events.caCertPath,
      GATEWAY_ENDPOINTS: t.gateway.endpointsFile,
      CHAT_USERNAME: username,
      CHAT_PASSWORD: password,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const steps: Record<string, any>[] = [];
  try {
    for await (const line of createInterface({ input: child.stdout })) if (line.startsWith("{")) steps.push(JSON.parse(line));
    return { code: await exited, steps };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

function expectStreamedAnswer(events: { type: string; seq: number; requestId: string }[], modelId: string) {
  const types = events.map((e) => e.type);
  expect(types[0]).toBe("start");
  expect(types.at(-1)).toBe("done");
  expect(types.slice(1, -1).every((type) => type === "delta")).toBe(true);
  expect(types.length).toBeGreaterThanOrEqual(3);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(new Set(events.map((e) => e.requestId)).size).toBe(1);
  expect(events[0]).toMatchObject({ modelId, cached: false });
  expect(events.at(-1)).toMatchObject({ stopReason: "end_turn", usage: { outputTokens: expect.any(Number) } });
}

describe("unmodified AppSync Events clients chat through npm start's gateway", () => {
  it("the Amplify v6 events client, signed in with Amplify Auth, gets start, deltas and done over WebSocket and HTTP publishes", async () => {
    const user = t.gateway.endpoints.users.find((u) => u.tier === "pro")!;
    const { code, steps } = await runAmplifyChat(user.username, user.password);
    expect(steps.find((s) => s.step === "failed")).toBeUndefined();
    expect(code).toBe(0);
    expect(steps.map((s) => s.step)).toEqual(["signedIn", "subscribed", "answered", "answered"]);
    expect(steps[0]).toMatchObject({ isSignedIn: true, sub: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const defaultModel = t.gateway.config.models.find((m) => m.default)!.id;
    for (const answered of steps.slice(2)) expectStreamedAnswer(answered.events, defaultModel);
    expect(steps.slice(2).map((s) => s.via)).toEqual(["websocket", "http"]);
    const deltas = (events: { type: string; text?: string }[]) => events.filter((e) => e.type === "delta").map((e) => e.text).join("");
    expect(deltas(steps[2]!.events).trim().split(/\s+/)).toHaveLength(6);
    expect(deltas(steps[3]!.events).trim().split(/\s+/)).toHaveLength(4);
  });

  it("a raw WebSocket client written from the AppSync Events protocol docs gets start, deltas and done", async () => {
    const user = await signInDemoUser(t, "default");
    const events = await chatOnce(t, user, "Hello from a raw client [[fake:tokens=12]]");
    const modelId = t.gateway.config.models.find((m) => m.default)!.id;
    expectStreamedAnswer(events, modelId);
    // The stack file's default model answered, through the Bedrock-compatible server.
    expect(t.gateway.bedrock!.requests.at(-1)).toMatchObject({ operation: "converse-stream", modelId, outcome: "end_turn" });
  });

  it("accepts Cognito ID tokens as well as access tokens, as AppSync does", async () => {
    const user = await signInDemoUser(t, "pro");
    expect(claimsOf(user.idToken).token_use).toBe("id");
    const events = await chatOnce(t, { ...user, accessToken: user.idToken }, "Hello with an ID token");
    expect(events.at(-1)!.type).toBe("done");
  });
});

describe("endpoints.json", () => {
  it("holds exactly what DESIGN section 8 lists, for a gateway that is running", async () => {
    const written = JSON.parse(await readFile(t.gateway.endpointsFile, "utf8"));
    const { region, config } = readStackConfig({ stack: "dev" });
    expect(Object.keys(written).sort()).toEqual(["cognito", "dynamodb", "events", "region", "stack", "users", "webUrl"]);
    expect(written.dynamodb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(written.dynamodb.tables).toMatchObject({ idempotency: "ai-gateway-dev-idempotency", usage: "ai-gateway-dev-usage", conversations: "ai-gateway-dev-conversations", cache: "ai-gateway-dev-cache" });
    expect(written.region).toBe(region);
    expect(Object.keys(written.events).sort()).toEqual(["caCertPath", "httpEndpoint", "realtimeEndpoint"]);
    expect(written.events.httpEndpoint).toMatch(/^https:\/\/localhost:\d+\/event$/);
    expect(written.events.realtimeEndpoint).toBe(written.events.httpEndpoint.replace(/^https:/, "wss:") + "/realtime");
    expect(isAbsolute(written.events.caCertPath)).toBe(true);
    expect(await readFile(written.events.caCertPath, "utf8")).toContain("BEGIN CERTIFICATE");
    expect(Object.keys(written.cognito).sort()).toEqual(["endpoint", "userPoolClientId", "userPoolId"]);
    expect(written.cognito.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(written.users.map((u: { tier: string }) => u.tier)).toEqual(Object.keys(config.tiers));
    for (const user of written.users) expect(Object.keys(user).sort()).toEqual(["password", "tier", "username"]);
    expect(written.webUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect(written).toEqual(t.gateway.endpoints);
  });

  it("lists demo users who sign in and belong to their tier's group", async () => {
    for (const user of t.gateway.endpoints.users) {
      const signedIn = await signInDemoUser(t, user.tier);
      expect(claimsOf(signedIn.accessToken)["cognito:groups"]).toEqual([user.tier]);
    }
  });
});
