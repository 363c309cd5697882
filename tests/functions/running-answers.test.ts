/**
 * Cancel's run records (cancel/runs.ts) against DynamoDB Local with the real SDK: what a
 * running answer writes, how an early cancel and a crashed attempt's record are met, polling
 * and its end, and what a cancel request answers. cancel.test.ts covers cancel through the
 * chat worker.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { cancelledByUser, isCancellation, RunningAnswers, runKey, type RunningAnswersOptions } from "../../functions/lib/cancel/runs.js";
import { GatewayError } from "../../functions/lib/protocol/errors.js";
import { CONVERSATIONS_TABLE } from "../../functions/lib/tables.js";
import { createTable, LOCAL_CREDENTIALS } from "../../local/dynamodb.js";

// In the future: DynamoDB Local deletes rows whose TTL has passed.
const START = Date.parse("2031-03-01T12:00:00Z");
let clock = START;
let tableName: string;
const clients: DynamoDBClient[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A DynamoDB Local client that records each command and may fail chosen ones. */
function client(fail?: (command: string) => Error | undefined) {
  const seen: { command: string; input: Record<string, unknown> }[] = [];
  const c = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "";
      seen.push({ command, input: args.input as Record<string, unknown> });
      const failure = fail?.(command);
      if (failure) throw failure;
      return next(args);
    },
    { step: "initialize", name: "recordCommands" },
  );
  clients.push(c);
  return { client: c, seen };
}

beforeAll(async () => {
  tableName = `conversations-${randomUUID()}`;
  await createTable(client().client, CONVERSATIONS_TABLE, tableName);
});
afterAll(() => {
  for (const c of clients) c.destroy();
});

const answers = (extra: Partial<RunningAnswersOptions> = {}, c = client().client) =>
  new RunningAnswers({ dynamodb: c, tableName, runExpirySeconds: 360, pollIntervalMs: 20, now: () => clock, ...extra });
const db = () => DynamoDBDocumentClient.from(client().client);
const runOf = async (userId: string, requestId: string) => (await db().send(new GetCommand({ TableName: tableName, Key: { user_id: userId, sk: runKey(requestId) } }))).Item;

describe("a running answer's record", () => {
  it("is written when the answer starts, expiring after runExpirySeconds, and removed when it stops", async () => {
    const user = randomUUID();
    const watch = await answers().start(user, "r1");
    expect(await runOf(user, "r1")).toEqual({ user_id: user, sk: "run#r1", state: "running", started_at: new Date(START).toISOString(), ttl: START / 1000 + 360 });
    expect(watch.signal.aborted).toBe(false);
    await watch.stop();
    expect(await runOf(user, "r1")).toBeUndefined();
  });

  it("replaces a crashed attempt's record, and an expired early cancel, and runs", async () => {
    const user = randomUUID();
    await db().send(new PutCommand({ TableName: tableName, Item: { user_id: user, sk: runKey("crashed"), state: "running", ttl: START / 1000 + 10 } }));
    const crashed = await answers().start(user, "crashed");
    expect(crashed.signal.aborted).toBe(false);
    expect(await runOf(user, "crashed")).toMatchObject({ state: "running", ttl: START / 1000 + 360 });
    await crashed.stop();

    await answers().requestCancel(user, "late");
    clock = START + 901_000;
    try {
      const late = await answers().start(user, "late");
      expect(late.signal.aborted).toBe(false);
      expect(await runOf(user, "late")).toMatchObject({ state: "running", started_at: new Date(clock).toISOString() });
      await late.stop();
    } finally {
      clock = START;
    }
  });

  it("starts cancelled when a cancel came first and is still armed, reading it consistently", async () => {
    const user = randomUUID();
    expect(await answers().requestCancel(user, "early")).toBe("not_running");
    expect(await runOf(user, "early")).toMatchObject({ cancel_requested: true, cancel_requested_at: new Date(START).toISOString(), ttl: START / 1000 + 900 });
    const { client: c, seen } = client();
    const watch = await answers({}, c).start(user, "early");
    expect(watch.signal.aborted).toBe(true);
    expect(watch.signal.reason).toMatchObject({ code: "cancelled", message: "The answer was stopped at your request." });
    expect(seen.find((s) => s.command === "GetItemCommand")?.input.ConsistentRead).toBe(true);
    // Not polled: it is over before it began.
    await sleep(60);
    expect(seen.filter((s) => s.command === "GetItemCommand")).toHaveLength(1);
    await watch.stop();
  });

  it("keeps an early cancel armed for earlyCancelSeconds", async () => {
    const user = randomUUID();
    await answers({ earlyCancelSeconds: 30 }).requestCancel(user, "soon");
    expect((await runOf(user, "soon"))?.ttl).toBe(START / 1000 + 30);
  });

  it("passes on a failure to write it that is not an existing record, without reading or writing it again", async () => {
    let puts = 0;
    const { client: c, seen } = client((command) =>
      command === "PutItemCommand" && puts++ === 0 ? Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException", $fault: "client" }) : undefined,
    );
    await expect(answers({}, c).start(randomUUID(), "r1")).rejects.toMatchObject({ name: "ProvisionedThroughputExceededException" });
    expect(seen.map((s) => s.command)).toEqual(["PutItemCommand"]);
  });
});

describe("watching for a cancel", () => {
  it("aborts the answer once a cancel is requested, polling with consistent reads until then", async () => {
    const user = randomUUID();
    const { client: c, seen } = client();
    const watch = await answers({}, c).start(user, "r1");
    await sleep(70);
    expect(watch.signal.aborted).toBe(false);
    expect(await answers().requestCancel(user, "r1")).toBe("cancelling");
    await sleep(80);
    expect(watch.signal.aborted).toBe(true);
    expect(isCancellation(watch.signal.reason)).toBe(true);
    const polls = seen.filter((s) => s.command === "GetItemCommand");
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every((p) => p.input.ConsistentRead === true)).toBe(true);
    // Aborted: no more polls.
    const after = polls.length;
    await sleep(80);
    expect(seen.filter((s) => s.command === "GetItemCommand")).toHaveLength(after);
    await watch.stop();
  });

  it("stops polling once stopped", async () => {
    const { client: c, seen } = client();
    const watch = await answers({}, c).start(randomUUID(), "r1");
    await sleep(50);
    await watch.stop();
    const polls = seen.filter((s) => s.command === "GetItemCommand").length;
    await sleep(80);
    expect(seen.filter((s) => s.command === "GetItemCommand")).toHaveLength(polls);
  });

  it("keeps the answer going through failed polls, telling onPollError, and still sees a later cancel", async () => {
    const user = randomUUID();
    let failing = true;
    const { client: c } = client((command) => (failing && command === "GetItemCommand" ? Object.assign(new Error("blip"), { name: "InternalServerError", $fault: "server" }) : undefined));
    const errors: unknown[] = [];
    const watch = await answers({ onPollError: (err) => errors.push(err) }, c).start(user, "r1");
    await sleep(70);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(watch.signal.aborted).toBe(false);
    failing = false;
    await answers().requestCancel(user, "r1");
    await sleep(80);
    expect(watch.signal.aborted).toBe(true);
    await watch.stop();
  });

  it("keeps polling quietly when its record is gone (removed or expired), telling onPollError nothing", async () => {
    const user = randomUUID();
    const errors: unknown[] = [];
    const { client: c, seen } = client();
    const watch = await answers({ onPollError: (err) => errors.push(err) }, c).start(user, "r1");
    await db().send(new DeleteCommand({ TableName: tableName, Key: { user_id: user, sk: runKey("r1") } }));
    const polled = seen.filter((s) => s.command === "GetItemCommand").length;
    while (seen.filter((s) => s.command === "GetItemCommand").length < polled + 2) await sleep(10);
    expect(errors).toEqual([]);
    expect(watch.signal.aborted).toBe(false);
    await watch.stop();
  });

  it("survives failed polls and a failed removal without onPollError", async () => {
    const { client: c } = client((command) => (command === "GetItemCommand" || command === "DeleteItemCommand" ? Object.assign(new Error("down"), { name: "InternalServerError", $fault: "server" }) : undefined));
    const watch = await answers({}, c).start(randomUUID(), "r1");
    await sleep(50);
    await expect(watch.stop()).resolves.toBeUndefined();
  });

  it("tells onPollError when the record could not be removed", async () => {
    const errors: unknown[] = [];
    const { client: c } = client((command) => (command === "DeleteItemCommand" ? Object.assign(new Error("down"), { name: "InternalServerError", $fault: "server" }) : undefined));
    const watch = await answers({ onPollError: (err) => errors.push(err) }, c).start(randomUUID(), "r1");
    await watch.stop();
    expect(errors).toEqual([expect.objectContaining({ name: "InternalServerError" })]);
  });
});

describe("asking for a cancel", () => {
  it("says not_running for a run past its expiry", async () => {
    const user = randomUUID();
    const watch = await answers().start(user, "r1");
    clock = START + 360_000;
    try {
      expect(await answers().requestCancel(user, "r1")).toBe("not_running");
    } finally {
      clock = START;
      await watch.stop();
    }
  });

  it("is a `cancelled` GatewayError, and only that counts as a cancellation", () => {
    expect(cancelledByUser()).toMatchObject({ code: "cancelled", message: "The answer was stopped at your request." });
    expect(isCancellation(new GatewayError("internal_error", "x"))).toBe(false);
    expect(isCancellation(new Error("cancelled"))).toBe(false);
  });
});
