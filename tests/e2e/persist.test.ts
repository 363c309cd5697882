/**
 * State across restarts: fresh on every start by default, kept with --persist. Three gateways
 * start one after another in this process, which also proves that a later gateway's handlers
 * talk to its own endpoints, not to a stopped one's.
 */
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IDEMPOTENCY_TABLE } from "../../functions/lib/tables.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { chatOnce, signInDemoUser, startTestGateway, type TestGateway } from "./support/gateway.js";

let stateDir: string;
const running: TestGateway[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "gateway-persist-"));
});

afterAll(async () => {
  for (const t of running) await t.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function start(persist: boolean): Promise<TestGateway> {
  const t = await startTestGateway({ persist, stateDir });
  running.push(t);
  return t;
}

async function claimedRequests(t: TestGateway): Promise<number> {
  const client = new DynamoDBClient({ endpoint: t.gateway.dynamodb.endpoint, region: t.gateway.region, credentials: LOCAL_CREDENTIALS });
  try {
    const result = await client.send(new ScanCommand({ TableName: t.gateway.dynamodb.tables[IDEMPOTENCY_TABLE.name], Select: "COUNT" }));
    return result.Count ?? 0;
  } finally {
    client.destroy();
  }
}

describe("state across restarts", () => {
  it("--persist keeps the user pool, its users and the tables' rows; a start without it begins empty", async () => {
    const first = await start(true);
    const user = await signInDemoUser(first, "default");
    expect((await chatOnce(first, user, "Remember me [[fake:tokens=2]]")).at(-1)!.type).toBe("done");
    const claimed = await claimedRequests(first);
    expect(claimed).toBeGreaterThan(0);
    await first.close();

    const second = await start(true);
    expect(second.endpoints.cognito.userPoolId).toBe(first.endpoints.cognito.userPoolId);
    expect(second.endpoints.cognito.userPoolClientId).toBe(first.endpoints.cognito.userPoolClientId);
    const again = await signInDemoUser(second, "default");
    expect(again.sub).toBe(user.sub);
    expect(await claimedRequests(second)).toBe(claimed);
    expect((await chatOnce(second, again, "Still me [[fake:tokens=2]]")).at(-1)!.type).toBe("done");
    await second.close();

    const fresh = await start(false);
    expect(fresh.endpoints.cognito.userPoolId).not.toBe(first.endpoints.cognito.userPoolId);
    expect((await signInDemoUser(fresh, "default")).sub).not.toBe(user.sub);
    expect(await claimedRequests(fresh)).toBe(0);
    expect((await chatOnce(fresh, await signInDemoUser(fresh, "pro"), "New here [[fake:tokens=2]]")).at(-1)!.type).toBe("done");
    // Three gateways start one after another here (three JVMs): room for a loaded machine.
  }, 180_000);
});
