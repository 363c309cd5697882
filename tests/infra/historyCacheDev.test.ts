/**
 * The dev stack (real Pulumi.dev.yaml, mocked engine): the conversations and cache tables,
 * the stack's prepared responses as table items keyed the way the worker looks them up, the
 * worker's environment for both, and no guardrail (dev has it off).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cacheKey } from "../../functions/lib/cache/key.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE } from "../../functions/lib/tables.js";
import { readStackConfig } from "../../local/config.js";
import { runMockedStack, type MockedStack } from "../../tools/mocked-stack.js";
import { grantedStatements, actionsOf, one, ofType, T } from "./stackQueries.js";

const devConfig = readStackConfig({ stack: "dev" }).config;
const TABLE_ITEM = "aws:dynamodb/tableItem:TableItem";

let stack: MockedStack;
beforeAll(async () => {
  stack = await runMockedStack({ stack: "dev" });
});
const resources = () => stack.resources;

describe("dev stack: conversations and prepared responses", () => {
  it("keys conversations by user with a sparse by-updated index, rows expiring on ttl", () => {
    const table = one(resources(), T.table, `-${CONVERSATIONS_TABLE.name}`);
    expect(table.inputs).toMatchObject({
      hashKey: "user_id",
      rangeKey: "sk",
      ttl: { attributeName: "ttl", enabled: true },
      globalSecondaryIndexes: [{ name: "by-updated", hashKey: "user_id", rangeKey: "updated_at", projectionType: "ALL" }],
      pointInTimeRecovery: { enabled: false },
    });
  });

  it("keys the cache by the prompt hash, with TTL for operator entries", () => {
    expect(one(resources(), T.table, `-${CACHE_TABLE.name}`).inputs).toMatchObject({ hashKey: "cache_key", ttl: { attributeName: "ttl", enabled: true } });
  });

  it("writes each prepared response of the stack file as a never-expiring item keyed as lookups key it", () => {
    const items = ofType(resources(), TABLE_ITEM);
    expect(devConfig.cache.prepared.length).toBeGreaterThan(0);
    expect(items).toHaveLength(devConfig.cache.prepared.length);
    const cacheTable = one(resources(), T.table, `-${CACHE_TABLE.name}`);
    for (const [i, entry] of devConfig.cache.prepared.entries()) {
      const item = items[i]!;
      expect(item.inputs.tableName).toBe(cacheTable.state.name);
      expect(item.inputs.hashKey).toBe("cache_key");
      const attributes = JSON.parse(item.inputs.item);
      expect(attributes.cache_key).toEqual({ S: cacheKey(entry.prompt, entry.modelId ?? "any") });
      expect(attributes.response).toEqual({ S: entry.response });
      expect(attributes.source).toEqual({ S: "config" });
      expect(attributes.ttl).toBeUndefined();
    }
  });

  it("tells the worker both tables' names, and names no guardrail", () => {
    const worker = one(resources(), T.fn, "worker-chat-function");
    const variables = worker.inputs.environment.variables;
    expect(variables.CONVERSATIONS_TABLE).toBe(one(resources(), T.table, "-conversations").state.name);
    expect(variables.CACHE_TABLE).toBe(one(resources(), T.table, "-cache").state.name);
    expect(variables.GUARDRAIL_ID).toBeUndefined();
    expect(ofType(resources(), "aws:bedrock/guardrail:Guardrail")).toEqual([]);
    expect(grantedStatements(resources()).flatMap(({ statement }) => actionsOf(statement))).not.toContain("bedrock:ApplyGuardrail");
  });
});
