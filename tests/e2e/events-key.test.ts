/**
 * The Events server's IAM key: made at each start, held only in the gateway's process (the
 * worker reads it from its environment there), accepted nowhere else.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../functions/lib/env.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { generateIamCredentials } from "../../local/events/iam-key.js";
import { sendHttp, signRequest } from "../../local/events/testing/fixture.js";
import { chatOnce, signInDemoUser, startTestGateway, type TestGateway } from "./support/gateway.js";

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway();
});

afterAll(async () => {
  await t?.close();
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("the Events server's IAM key", () => {
  it("is a fresh random key the worker holds in its environment, and the worker's answers arrive", async () => {
    const keyId = process.env[ENV.eventsPublisherAccessKeyId]!;
    const secret = process.env[ENV.eventsPublisherSecretAccessKey]!;
    expect(keyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(keyId).not.toBe(LOCAL_CREDENTIALS.accessKeyId);
    const answer = await chatOnce(t, await signInDemoUser(t), "hello [[fake:tokens=2]]");
    expect(answer.at(-1)!.type).toBe("done");
  });

  it("is written to no file of the gateway's state, endpoints.json included", async () => {
    const secret = process.env[ENV.eventsPublisherSecretAccessKey]!;
    const keyId = process.env[ENV.eventsPublisherAccessKeyId]!;
    const files = await filesUnder(t.stateDir);
    expect(files).toContain(t.gateway.endpointsFile);
    for (const file of files) {
      const text = await readFile(file, "utf8");
      expect(text).not.toContain(secret);
      expect(text).not.toContain(keyId);
    }
  });

  it("is the only key accepted: the well-known local/local key is refused on the main and the worker listener", async () => {
    const body = JSON.stringify({ channel: "/Outbound-Messages/00000000-0000-4000-8000-000000000000", events: ['{"type":"done"}'] });
    for (const endpoint of [t.gateway.events.httpEndpoint, t.gateway.events.listeners.worker!.httpEndpoint]) {
      const url = new URL(endpoint);
      const reply = await sendHttp(url, body, await signRequest(url, body, LOCAL_CREDENTIALS), { ca: t.ca });
      expect(reply.status).toBe(401);
    }
  });

  it("differs at every start", () => {
    const keys = new Set(Array.from({ length: 20 }, () => generateIamCredentials().secretAccessKey));
    expect(keys.size).toBe(20);
  });
});
