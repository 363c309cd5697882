/**
 * The usage store and meter when DynamoDB answers with something other than success, against
 * DynamoDB Local through a real SDK client whose chosen operations fail on purpose: version
 * conflicts, transaction conflicts, throttling, an admission that never gets its write in.
 * Also what the store asks DynamoDB for (consistent reads) and writes (ledger expiries, a
 * settlement of nothing). meter.test.ts covers the meter when DynamoDB cooperates.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { parseGatewayConfig } from "../../../functions/lib/config/parse.js";
import { createUsageMeter, reservationLifetimeMs, type UsageMeter } from "../../../functions/lib/metering/meter.js";
import { emptyRecord } from "../../../functions/lib/metering/record.js";
import { BUCKET_ROW_LIFETIME_MS, isTransientConflict, MONTH_ROW_LIFETIME_MS, UsageStore } from "../../../functions/lib/metering/store.js";
import { bucketId, bucketStart, monthId, nextMonthStart } from "../../../functions/lib/metering/windows.js";
import type { ResolvedTier } from "../../../functions/lib/routing/tier.js";
import { USAGE_TABLE } from "../../../functions/lib/tables.js";
import { createTable, LOCAL_CREDENTIALS } from "../../../local/dynamodb.js";
import { devLikeConfig } from "../../support/config-fixtures.js";
import { gatewayRejection } from "../../support/gateway-rejection.js";

const START = Date.parse("2030-05-14T09:03:00Z");
let clock = START;
let tableName: string;
const clients: DynamoDBClient[] = [];

const TIER: ResolvedTier = {
  name: "default",
  tier: {
    ...parseGatewayConfig(devLikeConfig(), { region: "us-east-1" }).tiers.default!,
    limits: { daily: { inputTokens: 5000, outputTokens: 1000 }, monthly: { inputTokens: 50_000, outputTokens: 10_000 } },
    maxConcurrentRequests: 10,
  },
};

/** A DynamoDB Local client; `fail` may throw in place of a command (by its name) before it is sent. */
function client(fail?: (command: string, input: Record<string, unknown>) => Error | undefined, seen?: { command: string; input: Record<string, unknown> }[]): DynamoDBClient {
  const c = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? "";
      seen?.push({ command, input });
      const failure = fail?.(command, input);
      if (failure) throw failure;
      return next(args);
    },
    { step: "initialize", name: "scriptedFailures" },
  );
  clients.push(c);
  return c;
}

const awsError = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} (scripted)`), { name, $fault: "client", ...extra });
const canceled = (...codes: string[]) => awsError("TransactionCanceledException", { CancellationReasons: codes.map((Code) => ({ Code })) });

/** Fails `command` the first `times` times (Infinity: always) with `error()`. */
function failing(command: string, times: number, error: () => Error) {
  let left = times;
  const failures = { count: 0 };
  const c = client((name) => {
    if (name !== command || left <= 0) return undefined;
    left--;
    failures.count++;
    return error();
  });
  return { client: c, failures };
}

const meterOn = (c: DynamoDBClient, extra: { admissionBudgetMs?: number } = {}): UsageMeter =>
  createUsageMeter({ dynamodb: c, tableName, reservationTtlMs: 360_000, now: () => clock, ...extra });

const admit = (m: UsageMeter, userId: string, maxTokens = 100) => m.admit({ userId, requestId: randomUUID(), tier: TIER, inputTokens: 50, maxTokens });


/** Every admission write loses to another writer and takes a second of the test's clock. */
function alwaysOutrun() {
  const writes = { count: 0 };
  const c = client((name) => {
    if (name !== "PutItemCommand") return undefined;
    writes.count++;
    clock += 1000;
    return awsError("ConditionalCheckFailedException");
  });
  return { client: c, writes };
}

beforeAll(async () => {
  tableName = `usage-${randomUUID()}`;
  await createTable(client(), USAGE_TABLE, tableName);
});
afterAll(() => {
  for (const c of clients) c.destroy();
});

describe("usage store: what it asks DynamoDB for", () => {
  it("reads the admission record and the partition with consistent reads (a stale read could admit past a limit)", async () => {
    const seen: { command: string; input: Record<string, unknown> }[] = [];
    const store = new UsageStore(client(undefined, seen), tableName);
    await store.readRecord(randomUUID());
    await store.readPartition(randomUUID());
    expect(seen.map((s) => [s.command, s.input.ConsistentRead])).toEqual([
      ["GetItemCommand", true],
      ["QueryCommand", true],
    ]);
  });

  it("gives ledger rows their expiries: buckets a day and two hours after they begin, months 400 days after they end", async () => {
    const user = randomUUID();
    const m = meterOn(client());
    await m.settle(await admit(m, user), { inputTokens: 3, outputTokens: 4 });
    const { ledger } = await new UsageStore(client(), tableName).readPartition(user);
    expect(ledger.sort((a, b) => a.periodId.localeCompare(b.periodId))).toEqual([
      { periodId: bucketId(clock), inputTokens: 3, outputTokens: 4, turns: 1, ttl: Math.ceil((bucketStart(clock) + BUCKET_ROW_LIFETIME_MS) / 1000) },
      { periodId: monthId(clock), inputTokens: 3, outputTokens: 4, turns: 1, ttl: Math.ceil((nextMonthStart(clock) + MONTH_ROW_LIFETIME_MS) / 1000) },
    ]);
  });

  it("settles a turn that used input only into the totals and the ledger; one that used nothing only releases", async () => {
    const user = randomUUID();
    const m = meterOn(client());
    const store = new UsageStore(client(), tableName);
    await m.settle(await admit(m, user), { inputTokens: 5, outputTokens: 0 });
    let { record, ledger } = await store.readPartition(user);
    expect(record.dailyInput).toEqual({ [bucketId(clock)]: 5 });
    expect(record.monthlyOutput).toEqual({ [monthId(clock)]: 0 });
    expect(ledger.map((r) => [r.inputTokens, r.outputTokens, r.turns])).toEqual([
      [5, 0, 1],
      [5, 0, 1],
    ]);
    const nothing = await admit(m, user);
    const before = (await store.readRecord(user)).version;
    expect(await m.settle(nothing, { inputTokens: 0, outputTokens: 0 })).toBe("settled");
    ({ record, ledger } = await store.readPartition(user));
    expect(record.reservations).toEqual({});
    expect(record.version).toBe(before + 1);
    expect(record.dailyInput).toEqual({ [bucketId(clock)]: 5 });
    // No ledger row counts a turn that spent nothing.
    expect(ledger.map((r) => r.turns)).toEqual([1, 1]);
  });

  it("settles a turn that reported output only (no input) into the totals and the ledger", async () => {
    const user = randomUUID();
    const m = meterOn(client());
    await m.settle(await admit(m, user), { inputTokens: 0, outputTokens: 6 });
    const { record, ledger } = await new UsageStore(client(), tableName).readPartition(user);
    expect(record.dailyOutput).toEqual({ [bucketId(clock)]: 6 });
    expect(ledger.map((r) => [r.inputTokens, r.outputTokens, r.turns])).toEqual([
      [0, 6, 1],
      [0, 6, 1],
    ]);
  });

  it("reads a partition larger than one query page (DynamoDB returns 1 MB a page)", async () => {
    const user = randomUUID();
    const db = DynamoDBDocumentClient.from(client());
    for (let i = 0; i < 5; i++) await db.send(new PutCommand({ TableName: tableName, Item: { user_id: user, period_id: `note#${i}`, filler: "f".repeat(300_000) } }));
    const { ledger } = await new UsageStore(client(), tableName).readPartition(user);
    expect(ledger.map((r) => r.periodId)).toEqual(["note#0", "note#1", "note#2", "note#3", "note#4"]);
    expect(ledger[0]).toEqual({ periodId: "note#0", inputTokens: 0, outputTokens: 0, turns: 0, ttl: 0 });
  });
});

describe("usage store: writing the admission record", () => {
  it("takes a version conflict or a transaction holding the item as 'changed since read', and throws anything else", async () => {
    const user = randomUUID();
    for (const name of ["ConditionalCheckFailedException", "TransactionConflictException"]) {
      const store = new UsageStore(failing("PutItemCommand", 1, () => awsError(name)).client, tableName);
      expect(await store.writeRecord(user, emptyRecord(), clock)).toBe(false);
    }
    const throttled = new UsageStore(failing("PutItemCommand", 1, () => awsError("ProvisionedThroughputExceededException")).client, tableName);
    await expect(throttled.writeRecord(user, emptyRecord(), clock)).rejects.toMatchObject({ name: "ProvisionedThroughputExceededException" });
  });

  it("writes a new record only where none exists, and a later one only at the version read", async () => {
    const user = randomUUID();
    const store = new UsageStore(client(), tableName);
    expect(await store.writeRecord(user, emptyRecord(), clock)).toBe(true);
    expect(await store.writeRecord(user, emptyRecord(), clock)).toBe(false);
    expect(await store.writeRecord(user, { ...emptyRecord(), version: 1 }, clock)).toBe(true);
    expect(await store.writeRecord(user, { ...emptyRecord(), version: 1 }, clock)).toBe(false);
    expect((await store.readRecord(user)).version).toBe(2);
  });
});

describe("usage meter under conflicts", () => {
  it("admits after a transaction conflict on its write, in two rounds", async () => {
    const { client: c, failures } = failing("PutItemCommand", 1, () => awsError("TransactionConflictException"));
    const admission = await admit(meterOn(c), randomUUID());
    expect(failures.count).toBe(1);
    expect(admission.attempts).toBe(2);
  });

  it("gives up with internal_error once its admission budget is spent, not before", async () => {
    const { client: c, writes } = alwaysOutrun();
    try {
      const err = await gatewayRejection(admit(meterOn(c, { admissionBudgetMs: 2000 }), randomUUID()));
      expect(err.code).toBe("internal_error");
      expect(err.message).toBe("Your usage could not be checked just now, so the request was not sent to the model. Please try again.");
      expect(err.extra).toEqual({ retryAfterSeconds: 5 });
      // Conflicts at +1 s (within the budget: try again) and at +2 s (the budget's end: stop).
      expect(writes.count).toBe(2);
    } finally {
      clock = START;
    }
  });

  it("keeps trying for 10 s by default", async () => {
    const { client: c, writes } = alwaysOutrun();
    try {
      expect((await gatewayRejection(admit(meterOn(c), randomUUID()))).code).toBe("internal_error");
      expect(writes.count).toBe(10);
    } finally {
      clock = START;
    }
  });

  it("fails closed on a write error that is not a conflict, without trying again", async () => {
    const { client: c, failures } = failing("PutItemCommand", Infinity, () => awsError("ProvisionedThroughputExceededException"));
    expect((await gatewayRejection(admit(meterOn(c), randomUUID()))).code).toBe("internal_error");
    expect(failures.count).toBe(1);
  });

  it("settles through transaction conflicts, either as the transaction's reason or the error's name", async () => {
    const user = randomUUID();
    const admission = await admit(meterOn(client()), user);
    let n = 0;
    const { client: c, failures } = failing("TransactWriteItemsCommand", 3, () => (n++ % 2 === 0 ? canceled("None", "TransactionConflict") : awsError("TransactionConflictException")));
    expect(await meterOn(c).settle(admission, { inputTokens: 7, outputTokens: 9 })).toBe("settled");
    expect(failures.count).toBe(3);
    const { record } = await new UsageStore(client(), tableName).readPartition(user);
    expect(record.reservations).toEqual({});
    expect(record.dailyOutput).toEqual({ [bucketId(clock)]: 9 });
  });

  it("stops after eight tries at a settlement that keeps conflicting, and passes the error on", async () => {
    const admission = await admit(meterOn(client()), randomUUID());
    const { client: c, failures } = failing("TransactWriteItemsCommand", Infinity, () => canceled("TransactionConflict"));
    await expect(meterOn(c).settle(admission, { inputTokens: 1, outputTokens: 1 })).rejects.toMatchObject({ name: "TransactionCanceledException" });
    expect(failures.count).toBe(8);
  });

  it("does not retry a settlement that failed for another reason", async () => {
    const admission = await admit(meterOn(client()), randomUUID());
    const { client: c, failures } = failing("TransactWriteItemsCommand", Infinity, () => canceled("ValidationError"));
    await expect(meterOn(c).settle(admission, { inputTokens: 1, outputTokens: 1 })).rejects.toMatchObject({ name: "TransactionCanceledException" });
    expect(failures.count).toBe(1);
  });
});

describe("what counts as a transient settlement conflict", () => {
  it("is a transaction conflict by name or by cancellation reason, and nothing else", () => {
    expect(isTransientConflict(awsError("TransactionConflictException"))).toBe(true);
    expect(isTransientConflict(canceled("None", "TransactionConflict"))).toBe(true);
    expect(isTransientConflict(canceled("ConditionalCheckFailed"))).toBe(false);
    expect(isTransientConflict(awsError("TransactionCanceledException"))).toBe(false);
    // Reasons count only on a cancelled transaction.
    expect(isTransientConflict(awsError("ValidationException", { CancellationReasons: [{ Code: "TransactionConflict" }] }))).toBe(false);
    expect(isTransientConflict(null)).toBe(false);
    expect(isTransientConflict(undefined)).toBe(false);
  });
});

describe("reservation lifetime", () => {
  it("is the worker's timeout and a minute more, so a live turn's reservation never lapses", () => {
    expect(reservationLifetimeMs(300)).toBe(360_000);
    expect(reservationLifetimeMs(0)).toBe(60_000);
  });
});
