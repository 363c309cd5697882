/**
 * `npm run gateway -- cache ...` (runCacheCommand) against DynamoDB Local: put with the
 * stack's default TTL or an explicit one, list, delete, and the refusals an operator needs.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { PreparedCache } from "../../functions/lib/cache/store.js";
import { CACHE_TABLE } from "../../functions/lib/tables.js";
import { createTable, LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { CacheCommandError, runCacheCommand, type CacheTarget } from "../../tools/gateway/cache.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
let dynamodb: DynamoDBClient;
let tableName: string;
let lines: string[];
let target: CacheTarget;

beforeAll(async () => {
  dynamodb = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
  tableName = `cache-${randomUUID()}`;
  await createTable(dynamodb, CACHE_TABLE, tableName);
  target = {
    dynamodb,
    tables: { cache: tableName },
    config: { cache: { ttlDays: 7 }, models: [{ id: "us.amazon.nova-lite-v1:0" }] },
    print: (line) => lines.push(line),
    now: () => NOW,
  };
});
afterAll(() => dynamodb?.destroy());

const run = (...argv: string[]) => {
  lines = [];
  return runCacheCommand(target, argv);
};
const store = () => new PreparedCache({ dynamodb, tableName, now: () => NOW });

describe("cache command", () => {
  it("puts an entry that expires after the stack's cache.ttlDays by default", async () => {
    expect(await run("put", "--prompt", "How do I reset my password?", "--response", "Use the sign-in page's link.")).toBe(0);
    const entry = await store().get("how do i reset my password");
    expect(entry).toMatchObject({ response: "Use the sign-in page's link.", source: "operator", ttl: NOW / 1000 + 7 * 86_400 });
    expect(lines[0]).toMatch(/^put "how do i reset my password" \(any model\), expires 2026-03-08T12:00:00.000Z$/);
  });

  it("takes --ttl-days, --no-expiry and --model", async () => {
    await run("put", "--prompt", "Short lived", "--response", "x", "--ttl-days", "1");
    expect((await store().get("short lived"))?.ttl).toBe(NOW / 1000 + 86_400);
    await run("put", "--prompt", "Forever", "--response", "y", "--no-expiry", "--model", "us.amazon.nova-lite-v1:0");
    expect(await store().get("forever", "us.amazon.nova-lite-v1:0")).toMatchObject({ response: "y", modelId: "us.amazon.nova-lite-v1:0" });
    expect((await store().get("forever", "us.amazon.nova-lite-v1:0"))?.ttl).toBeUndefined();
  });

  it("lists entries as a table with model, source and expiry", async () => {
    expect(await run("list")).toBe(0);
    const output = lines.join("\n");
    expect(output.split("\n")[0]).toMatch(/^PROMPT\s+MODEL\s+SOURCE\s+EXPIRES\s+RESPONSE$/);
    expect(output).toMatch(/Forever\s+us\.amazon\.nova-lite-v1:0\s+operator\s+never\s+y/);
  });

  it("deletes an operator entry and says when there was none", async () => {
    expect(await run("delete", "--prompt", "short lived")).toBe(0);
    expect(await store().get("short lived")).toBeUndefined();
    expect(await run("delete", "--prompt", "short lived")).toBe(1);
    expect(lines[0]).toContain("no prepared response");
  });

  it("leaves stack-config entries to the stack file", async () => {
    await store().put({ prompt: "Configured", response: "from the stack", source: "config" });
    await expect(run("delete", "--prompt", "Configured")).rejects.toThrow(/stack config/);
    await expect(run("put", "--prompt", "configured", "--response", "override")).rejects.toThrow(/stack config/);
    expect((await store().get("configured"))?.response).toBe("from the stack");
  });

  it("refuses bad usage with a message naming the problem", async () => {
    await expect(run("put", "--prompt", "x")).rejects.toThrow(/--response is required/);
    await expect(run("put", "--prompt", "x", "--response", "y", "--ttl-days", "0")).rejects.toThrow(/--ttl-days/);
    await expect(run("put", "--prompt", "x", "--response", "y", "--model", "nope")).rejects.toThrow(/not in the stack's models allowlist/);
    await expect(run("frobnicate")).rejects.toThrow(CacheCommandError);
    await expect(run("list", "--bogus")).rejects.toThrow(/usage/);
  });
});
