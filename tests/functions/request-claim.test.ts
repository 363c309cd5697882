/**
 * The request claim (worker/request-claim.ts, worker/claim-sequence.ts) on its own, against
 * DynamoDB Local with the real SDK: what a duplicate is told, what the idempotency table keeps,
 * and how a store that fails after the work ran is retried and reported.
 * idempotency-store-failures.test.ts covers the same failures through the chat worker.
 */
import { createHash, randomUUID } from "node:crypto";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createClaimSequence } from "../../functions/lib/worker/claim-sequence.js";
import { createRequestClaim, type AttemptEnd } from "../../functions/lib/worker/request-claim.js";
import { IDEMPOTENCY_TABLE } from "../../functions/lib/tables.js";
import { lambdaContext } from "../../local/lambda.js";
import { createTable, LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { failingDynamoDb, type FailingCommand } from "../support/failing-dynamodb.js";

const EXPIRES_AFTER_SECONDS = 120;
let tableName: string;
const dynamodb = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS });
const clients: DynamoDBClient[] = [dynamodb];

beforeAll(async () => {
  tableName = `idempotency-${randomUUID()}`;
  await createTable(dynamodb, IDEMPOTENCY_TABLE, tableName);
});
afterAll(() => {
  for (const c of clients) c.destroy();
});
afterEach(() => void vi.useRealTimers());

const claimOn = (client = dynamodb) => createRequestClaim({ tableName, dynamodb: client, expiresAfterSeconds: EXPIRES_AFTER_SECONDS });
/** A claim whose store fails `command` (those `when` accepts) `times` times. */
function failingClaim(command: FailingCommand, times: number, when?: (input: Record<string, unknown>) => boolean) {
  const store = failingDynamoDb(command, times, when);
  clients.push(store.client);
  return { claim: claimOn(store.client), failed: store.failed };
}
const key = () => ({ sub: randomUUID(), requestId: randomUUID() });
const done = { type: "done", seq: 3 };
const finalEnd = async (): Promise<AttemptEnd> => ({ kind: "final", result: done });
const itemOf = async (id: string) => (await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: id } } }))).Item;
const claimId = (k: { sub: string; requestId: string }) => `chat-request#${createHash("md5").update(JSON.stringify([k.sub, k.requestId])).digest("base64")}`;
const nextSeqId = (k: { sub: string; requestId: string }) => `chat-request-next-seq#${createHash("sha256").update(JSON.stringify([k.sub, k.requestId])).digest("hex")}`;
const isNextSeqPut = (input: Record<string, unknown>) => String((input.Item as { id?: { S?: string } } | undefined)?.id?.S).startsWith("chat-request-next-seq#");

/** Resolves once `check` holds, polling with the real clock (a test may fake setTimeout). */
const realSetTimeout = globalThis.setTimeout;
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => realSetTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe("a claimed request", () => {
  it("runs once and answers a duplicate with the result it kept; another user's same requestId is not a duplicate", async () => {
    const claim = claimOn();
    const k = key();
    const work = vi.fn(finalEnd);
    expect(await claim.runOnce(k, work)).toStrictEqual({ kind: "ran" });
    expect(await claim.runOnce(k, work)).toStrictEqual({ kind: "finished", result: done });
    expect(work).toHaveBeenCalledTimes(1);
    expect(await claim.runOnce({ sub: randomUUID(), requestId: k.requestId }, work)).toStrictEqual({ kind: "ran" });
    expect(work).toHaveBeenCalledTimes(2);
  });

  it("keeps a finished request under chat-request#<hash of [sub, requestId]> for expiresAfterSeconds (the key earlier deployments wrote)", async () => {
    const k = key();
    const before = Date.now();
    await claimOn().runOnce(k, finalEnd);
    const item = await itemOf(claimId(k));
    expect(item?.status).toEqual({ S: "COMPLETED" });
    const expiration = Number(item?.expiration?.N);
    expect(expiration).toBeGreaterThanOrEqual(Math.round(before / 1000) + EXPIRES_AFTER_SECONDS);
    expect(expiration).toBeLessThanOrEqual(Math.round(Date.now() / 1000) + EXPIRES_AFTER_SECONDS);
  });

  it("tells a duplicate that arrives while the first attempt still runs that it is in progress", async () => {
    const claim = claimOn();
    const k = key();
    let finish!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = claim.runOnce(k, async () => {
      started();
      await new Promise<void>((resolve) => (finish = resolve));
      return { kind: "final", result: done };
    });
    await running;
    const duplicate = vi.fn(finalEnd);
    expect(await claim.runOnce(k, duplicate)).toStrictEqual({ kind: "in_progress" });
    expect(duplicate).not.toHaveBeenCalled();
    finish();
    expect(await first).toStrictEqual({ kind: "ran" });
  });

  it("releases a retryable attempt's claim: a resend runs again, numbering its events on from nextSeq", async () => {
    const claim = claimOn();
    const k = key();
    const seen: number[] = [];
    const retryable = async ({ firstSeq }: { firstSeq: Promise<number> }): Promise<AttemptEnd> => {
      seen.push(await firstSeq);
      return { kind: "retryable", nextSeq: 7 };
    };
    expect(await claim.runOnce(k, retryable)).toStrictEqual({ kind: "ran" });
    expect(await itemOf(claimId(k))).toBeUndefined();
    expect(await claim.runOnce(k, async ({ firstSeq }) => (seen.push(await firstSeq), { kind: "final", result: done }))).toStrictEqual({ kind: "ran" });
    expect(seen).toEqual([0, 7]);
  });

  it("throws the work's own failure to the caller and releases the claim, so a resend runs", async () => {
    const claim = claimOn();
    const k = key();
    const crash = new Error("work crashed");
    await expect(claim.runOnce(k, async () => Promise.reject(crash))).rejects.toBe(crash);
    expect(await claim.runOnce(k, finalEnd)).toStrictEqual({ kind: "ran" });
  });

  it("leaves no unhandled rejection when the work crashes without awaiting a sequence read that failed", async () => {
    const { claim, failed } = failingClaim("GetItemCommand", Infinity);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const crash = new Error("work crashed");
      await expect(claim.runOnce(key(), async () => Promise.reject(crash))).rejects.toBe(crash);
      await until(() => failed.length > 0);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

describe("when the store fails after the work ran", () => {
  it("records the result on the last of three attempts, and a duplicate then gets it", async () => {
    // Powertools' own write, then the first two of ours.
    const { claim, failed } = failingClaim("UpdateItemCommand", 3);
    const k = key();
    expect(await claim.runOnce(k, finalEnd)).toStrictEqual({ kind: "ran" });
    expect(failed).toHaveLength(3);
    expect(await claim.runOnce(k, finalEnd)).toStrictEqual({ kind: "finished", result: done });
  });

  it("reports a result it could not record after three attempts, 100 and 400 ms apart, with the store's error", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { claim, failed } = failingClaim("UpdateItemCommand", Infinity);
    const outcome = claim.runOnce(key(), finalEnd);
    // Powertools' own write, then our first attempt at once.
    await until(() => failed.length >= 2);
    expect(failed).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(99);
    expect(failed).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => failed.length >= 3);
    await vi.advanceTimersByTimeAsync(399);
    expect(failed).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    const result = await outcome;
    expect(failed).toHaveLength(4);
    expect(result).toStrictEqual({ kind: "ran", storeFailure: { stage: "record", error: expect.objectContaining({ name: "InternalServerError", message: "store unavailable" }) } });
  });

  it("holds an unreleased claim until its record lapses, expiresAfterSeconds after the claim, without a Lambda context", async () => {
    const { claim } = failingClaim("DeleteItemCommand", Infinity);
    const before = Date.now();
    const outcome = await claim.runOnce(key(), async () => ({ kind: "retryable", nextSeq: 1 }));
    expect(outcome).toStrictEqual({
      kind: "ran",
      storeFailure: { stage: "release", error: expect.objectContaining({ name: "InternalServerError" }) },
      heldUntil: expect.any(Number),
    });
    expect(outcome.kind === "ran" && outcome.heldUntil).toBeGreaterThanOrEqual(before + EXPIRES_AFTER_SECONDS * 1000);
    expect(outcome.kind === "ran" && outcome.heldUntil).toBeLessThanOrEqual(Date.now() + EXPIRES_AFTER_SECONDS * 1000);
  });

  it("holds an unreleased claim until the invocation's deadline, when the in-progress record lapses", async () => {
    const { claim } = failingClaim("DeleteItemCommand", Infinity);
    const k = key();
    const context = lambdaContext("chat-worker", { timeoutSeconds: 20 });
    claim.registerLambdaContext(context);
    const deadline = Date.now() + context.getRemainingTimeInMillis();
    const outcome = await claim.runOnce(k, async () => ({ kind: "retryable", nextSeq: 1 }));
    const heldUntil = outcome.kind === "ran" ? outcome.heldUntil : undefined;
    // The deadline read from the context's remaining time, give or take the clock's millisecond.
    expect(heldUntil).toBeGreaterThanOrEqual(deadline - 1);
    expect(heldUntil).toBeLessThanOrEqual(deadline + 1);
    const lapses = Number((await itemOf(claimId(k)))?.in_progress_expiration?.N);
    expect(lapses).toBeGreaterThanOrEqual(deadline - 1);
    expect(lapses).toBeLessThanOrEqual(deadline + 1);
  });

  it("reports a next seq it could not remember, and still releases the claim (the resend starts at 0)", async () => {
    const { claim, failed } = failingClaim("PutItemCommand", Infinity, isNextSeqPut);
    const k = key();
    const outcome = await claim.runOnce(k, async () => ({ kind: "retryable", nextSeq: 4 }));
    expect(outcome).toStrictEqual({ kind: "ran", storeFailure: { stage: "sequence", error: expect.objectContaining({ name: "InternalServerError" }) } });
    expect(failed).toHaveLength(3);
    let firstSeq: number | undefined;
    expect(await claim.runOnce(k, async (attempt) => ((firstSeq = await attempt.firstSeq), { kind: "final", result: done }))).toStrictEqual({ kind: "ran" });
    expect(firstSeq).toBe(0);
  });
});

describe("the next attempt's first seq", () => {
  const sequence = () => createClaimSequence({ tableName, dynamodb, expiresAfterSeconds: EXPIRES_AFTER_SECONDS });

  it("is kept under chat-request-next-seq#<sha256 of [sub, requestId]>, expiring with the claim", async () => {
    const k = key();
    const before = Math.floor(Date.now() / 1000);
    await sequence().remember(k, 5);
    const item = await itemOf(nextSeqId(k));
    expect(item?.next_seq).toEqual({ N: "5" });
    expect(Number(item?.expiration?.N)).toBeGreaterThanOrEqual(before + EXPIRES_AFTER_SECONDS);
    expect(Number(item?.expiration?.N)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + EXPIRES_AFTER_SECONDS);
    expect(await sequence().firstSeq(k)).toBe(5);
  });

  it("is 0 for a row whose expiration has passed but that TTL has not deleted yet", async () => {
    const k = key();
    const past = String(Math.floor(Date.now() / 1000) - 60);
    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: nextSeqId(k) }, next_seq: { N: "9" }, expiration: { N: past } } }));
    expect(await sequence().firstSeq(k)).toBe(0);
  });
});
