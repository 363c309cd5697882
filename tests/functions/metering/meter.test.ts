/**
 * The usage meter against DynamoDB Local with the real SDK, on a clock the tests move.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { parseGatewayConfig } from "../../../functions/lib/config/parse.js";
import type { TierConfig } from "../../../functions/lib/config/schema.js";
import { createUsageMeter, type UsageMeter } from "../../../functions/lib/metering/meter.js";
import { UsageStore } from "../../../functions/lib/metering/store.js";
import { bucketId, monthId } from "../../../functions/lib/metering/windows.js";
import type { GatewayError } from "../../../functions/lib/protocol/errors.js";
import type { ResolvedTier } from "../../../functions/lib/routing/tier.js";
import { USAGE_TABLE } from "../../../functions/lib/tables.js";
import { createTable, LOCAL_CREDENTIALS } from "../../../local/dynamodb.js";
import { freePort } from "../../../local/ports.js";
import { devLikeConfig } from "../../support/config-fixtures.js";
import { gatewayRejection } from "../../support/gateway-rejection.js";

const MINUTE = 60_000;
const RESERVATION_MS = 6 * MINUTE;
// A clock in the future: DynamoDB Local really deletes rows whose TTL has passed, and a
// clock in the past would have it delete the records under the test.
let dynamodb: DynamoDBClient;
let tableName: string;
let store: UsageStore;
let clock = Date.parse("2030-05-14T09:03:00Z");

beforeAll(async () => {
  dynamodb = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
  tableName = `usage-${randomUUID()}`;
  await createTable(dynamodb, USAGE_TABLE, tableName);
  store = new UsageStore(dynamodb, tableName);
});
afterAll(() => dynamodb?.destroy());

function tierWith(overrides: Partial<TierConfig> = {}): ResolvedTier {
  const base = parseGatewayConfig(devLikeConfig(), { region: "us-east-1" }).tiers.default!;
  return {
    name: "default",
    tier: {
      ...base,
      limits: { daily: { inputTokens: 5000, outputTokens: 1000 }, monthly: { inputTokens: 50_000, outputTokens: 10_000 } },
      maxConcurrentRequests: 10,
      ...overrides,
    },
  };
}

const meter = (options: { client?: DynamoDBClient } = {}): UsageMeter =>
  createUsageMeter({ dynamodb: options.client ?? dynamodb, tableName, reservationTtlMs: RESERVATION_MS, now: () => clock });

const admitFor = (m: UsageMeter, userId: string, tier: ResolvedTier, maxTokens: number, inputTokens = 100) =>
  m.admit({ userId, requestId: randomUUID(), tier, inputTokens, maxTokens });


describe("usage meter on DynamoDB Local", () => {
  it("reserves before the call and charges what the model reported, in the bucket, the month and the quota", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith();
    const admission = await admitFor(m, user, tier, 300, 120);
    expect(admission).toMatchObject({ maxTokens: 300, reservation: { inputTokens: 120, outputTokens: 300 }, attempts: 1 });
    // While it runs, its reservation counts: only 700 output tokens are left for another turn.
    const other = await admitFor(m, user, tier, 1000);
    expect(other.maxTokens).toBe(700);

    expect(await m.settle(admission, { inputTokens: 37, outputTokens: 250 })).toBe("settled");
    const { record, ledger } = await store.readPartition(user);
    expect(Object.keys(record.reservations)).toEqual([other.requestId]);
    expect(ledger.map((r) => r.periodId).sort()).toEqual([bucketId(clock), monthId(clock)].sort());
    for (const row of ledger) expect(row).toMatchObject({ inputTokens: 37, outputTokens: 250, turns: 1 });

    await m.settle(other, { inputTokens: 10, outputTokens: 700 });
    const quota = await m.quota(user, tier);
    expect(quota.daily).toMatchObject({ inputTokens: { used: 47, limit: 5000 }, outputTokens: { used: 950, limit: 1000 } });
    expect(quota.monthly).toMatchObject({ inputTokens: { used: 47, limit: 50_000 }, outputTokens: { used: 950, limit: 10_000 } });
  });

  it("settles a request once: a second settlement of the same turn changes nothing", async () => {
    const user = randomUUID();
    const m = meter();
    const admission = await admitFor(m, user, tierWith(), 100);
    expect(await m.settle(admission, { inputTokens: 10, outputTokens: 100 })).toBe("settled");
    expect(await m.settle(admission, { inputTokens: 10, outputTokens: 100 })).toBe("duplicate");
    const { record, ledger } = await store.readPartition(user);
    expect(ledger.every((r) => r.outputTokens === 100 && r.turns === 1)).toBe(true);
    expect(record.dailyOutput).toEqual({ [bucketId(clock)]: 100 });
  });

  it("stops counting a crashed worker's reservation once it expires, checked by time", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith({ maxConcurrentRequests: 1 });
    // The worker that took this never settles.
    await admitFor(m, user, tier, 800);
    expect((await gatewayRejection(admitFor(m, user, tier, 100))).code).toBe("concurrency_limit");
    const started = clock;
    try {
      clock += RESERVATION_MS - 1000;
      expect((await gatewayRejection(admitFor(m, user, tier, 100))).code).toBe("concurrency_limit");
      clock = started + RESERVATION_MS + 1;
      const next = await admitFor(m, user, tier, 1000);
      expect(next.maxTokens).toBe(1000);
      const { record } = await store.readPartition(user);
      expect(Object.keys(record.reservations)).toEqual([next.requestId]);
    } finally {
      clock = started;
    }
  });

  it("writes an expiry on every row, in the attribute the table declares", async () => {
    const user = randomUUID();
    const m = meter();
    const admission = await admitFor(m, user, tierWith(), 10);
    await m.settle(admission, { inputTokens: 1, outputTokens: 1 });
    const ttlOf = async (periodId: string) => {
      const { Item } = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { user_id: { S: user }, period_id: { S: periodId } } }));
      return Number(Item![USAGE_TABLE.ttlAttribute!]!.N) * 1000;
    };
    // Bucket rows outlive the rolling day; month rows outlive the month by 400 days; the
    // admission record outlives what it holds (this month, the last 24 h).
    const bucketStart = Date.parse("2030-05-14T09:00:00Z");
    expect(await ttlOf(bucketId(clock))).toBe(bucketStart + 26 * 60 * MINUTE);
    expect(await ttlOf(monthId(clock))).toBe(Date.parse("2030-06-01T00:00:00Z") + 400 * 24 * 60 * MINUTE);
    expect(await ttlOf("admission")).toBe(Date.parse("2030-06-02T00:00:00Z"));
  });

  it("refuses when the limit is spent, and charges a turn that failed before any model answered nothing", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith();
    const first = await admitFor(m, user, tier, 1000);
    const err = await gatewayRejection(admitFor(m, user, tier, 10));
    expect(err.code).toBe("limit_exceeded");
    expect(err.extra.details).toMatchObject({ window: "daily", tokenType: "outputTokens", used: 1000, limit: 1000 });
    await m.settle(first, { inputTokens: 0, outputTokens: 0 });
    expect((await admitFor(m, user, tier, 10)).maxTokens).toBe(10);
    expect((await store.readPartition(user)).ledger).toEqual([]);
  });

  it("limits requests per minute through the same admission record", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) await m.settle(await admitFor(m, user, tier, 1), { inputTokens: 1, outputTokens: 1 });
    const err = await gatewayRejection(admitFor(m, user, tier, 1));
    expect(err).toMatchObject({ code: "rate_limited", extra: { retryAfterSeconds: 60, details: { limit: 3 } } });
    const started = clock;
    clock += MINUTE + 1;
    try {
      await expect(admitFor(m, user, tier, 1)).resolves.toMatchObject({ maxTokens: 1 });
    } finally {
      clock = started;
    }
  });

  it("admits concurrent requests one at a time through the record's version, never past the limit", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith({ maxConcurrentRequests: 100 });
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => admitFor(m, user, tier, 70)));
    const granted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.maxTokens] : []));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as GatewayError).code] : []));
    expect(granted.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(granted.sort((a, b) => a - b)).toEqual([20, ...Array(14).fill(70)]);
    expect(new Set(refused)).toEqual(new Set(["limit_exceeded"]));
    expect(results.some((r) => r.status === "fulfilled" && r.value.attempts > 1)).toBe(true);
  });

  it("admits on a prefetched record without reading again, and re-reads when another admission changed it since", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith();
    const first = await m.admit({ userId: user, requestId: randomUUID(), tier, inputTokens: 100, maxTokens: 600 }, m.prefetch(user));
    expect(first).toMatchObject({ maxTokens: 600, attempts: 1 });

    // Prefetched, then overtaken by another turn's admission before it is used: the write on
    // the stale version fails, the meter reads again and clamps to what is really left.
    const stale = m.prefetch(user);
    await stale.record;
    await admitFor(m, user, tier, 300);
    const late = await m.admit({ userId: user, requestId: randomUUID(), tier, inputTokens: 100, maxTokens: 600 }, stale);
    expect(late).toMatchObject({ maxTokens: 100, attempts: 2 });
    const record = await store.readRecord(user);
    expect(Object.values(record.reservations).reduce((sum, r) => sum + r.outputTokens, 0)).toBe(1000);
  });

  it("ignores a prefetched record of another user", async () => {
    const user = randomUUID();
    const other = randomUUID();
    const m = meter();
    const tier = tierWith();
    await admitFor(m, other, tier, 900);
    const admission = await m.admit({ userId: user, requestId: randomUUID(), tier, inputTokens: 100, maxTokens: 600 }, m.prefetch(other));
    expect(admission).toMatchObject({ maxTokens: 600, attempts: 1 });
    expect(admission.usage.reserved.outputTokens).toBe(0);
  });

  it("answers the quota from a prefetched record, and fails closed when that read failed", async () => {
    const user = randomUUID();
    const m = meter();
    const tier = tierWith();
    const admission = await admitFor(m, user, tier, 10);
    await m.settle(admission, { inputTokens: 40, outputTokens: 7 });
    const quota = await m.quota(user, tier, m.prefetch(user));
    expect(quota.daily.outputTokens).toEqual({ used: 7, limit: 1000 });
    expect(quota.daily.inputTokens).toEqual({ used: 40, limit: 5000 });

    const port = await freePort();
    const unreachable = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const failed = meter({ client: unreachable }).prefetch(user);
      // An unused failed prefetch raises nothing (no unhandled rejection); a user of it fails closed.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await gatewayRejection(m.quota(user, tier, failed))).code).toBe("internal_error");
      expect((await gatewayRejection(m.admit({ userId: user, requestId: randomUUID(), tier, inputTokens: 1, maxTokens: 1 }, failed))).code).toBe("internal_error");
    } finally {
      unreachable.destroy();
    }
  });

  it("fails closed with internal_error when the usage table cannot be reached", async () => {
    const port = await freePort();
    const unreachable = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const err = await gatewayRejection(admitFor(meter({ client: unreachable }), randomUUID(), tierWith(), 10));
      expect(err.code).toBe("internal_error");
      expect(err.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      expect((await gatewayRejection(meter({ client: unreachable }).quota(randomUUID(), tierWith()))).code).toBe("internal_error");
    } finally {
      unreachable.destroy();
    }
  });
});
