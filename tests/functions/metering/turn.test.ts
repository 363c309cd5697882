/**
 * One turn's metering (TurnMetering) over a scripted usage meter: what it reserves, what it
 * charges however the turn ends, that it settles once, and what it logs. The meter's own
 * behaviour against DynamoDB Local is meter.test.ts; the worker's use of both is worker.test.ts.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import type { ConversePart } from "../../../functions/lib/bedrock/converse.js";
import { parseGatewayConfig } from "../../../functions/lib/config/parse.js";
import { estimateInputTokens } from "../../../functions/lib/metering/estimate.js";
import type { Admission, AdmitRequest, PrefetchedUsage, UsageMeter } from "../../../functions/lib/metering/meter.js";
import { buildQuota } from "../../../functions/lib/metering/quota.js";
import type { SettleOutcome } from "../../../functions/lib/metering/store.js";
import { TurnMetering } from "../../../functions/lib/metering/turn.js";
import { GatewayError } from "../../../functions/lib/protocol/errors.js";
import type { Quota, TokenCounts } from "../../../functions/lib/protocol/outbound.js";
import type { ResolvedTier } from "../../../functions/lib/routing/tier.js";
import { devLikeConfig } from "../../support/config-fixtures.js";

const TIER: ResolvedTier = { name: "default", tier: parseGatewayConfig(devLikeConfig(), { region: "us-east-1" }).tiers.default! };
const ADMITTED_AT = Date.parse("2030-05-14T09:03:00Z");
const QUOTA_NOW = { tier: "from-the-meter" } as unknown as Quota;

interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  attributes: Record<string, unknown>;
}

function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (message: string, attributes: Record<string, unknown> = {}) => void lines.push({ level, message, attributes });
  return { log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } as unknown as Logger, lines };
}

/** An admission as the meter would return it: the turn may produce 200 tokens, reserved 250. */
function admissionFor(request: AdmitRequest): Admission {
  return {
    userId: request.userId,
    requestId: request.requestId,
    tier: request.tier,
    maxTokens: 200,
    reservation: { inputTokens: request.inputTokens, outputTokens: 250, admittedAt: ADMITTED_AT, expiresAt: ADMITTED_AT + 360_000 },
    usage: {
      daily: { inputTokens: 1000, outputTokens: 400 },
      monthly: { inputTokens: 9000, outputTokens: 3000 },
      reserved: { inputTokens: 0, outputTokens: 0 },
      buckets: [],
      active: 0,
    },
    attempts: 3,
  };
}

/** A usage meter that answers as scripted and records what it was asked. */
function scriptedMeter(script: { admit?: (r: AdmitRequest) => Admission; settle?: () => SettleOutcome; quota?: () => Quota } = {}) {
  const calls = {
    admit: [] as { request: AdmitRequest; prefetched?: PrefetchedUsage }[],
    settle: [] as { admission: Admission; consumed: TokenCounts }[],
    quota: [] as { userId: string; tier: ResolvedTier }[],
  };
  const meter: UsageMeter = {
    prefetch: throwing(new Error("not used by TurnMetering")),
    admit: async (request, prefetched) => {
      calls.admit.push({ request, prefetched });
      return (script.admit ?? admissionFor)(request);
    },
    settle: async (admission, consumed) => {
      calls.settle.push({ admission, consumed });
      return script.settle ? script.settle() : "settled";
    },
    quota: async (userId, tier) => {
      calls.quota.push({ userId, tier });
      return script.quota ? script.quota() : QUOTA_NOW;
    },
  };
  return { meter, calls };
}

function turnWith(meter: UsageMeter, onRefusal?: () => void) {
  const { log, lines } = recordingLogger();
  const turn = new TurnMetering(meter, { userId: "user-1", requestId: "request-1", tier: TIER, log, onRefusal });
  return { turn, lines };
}

async function* parts(...list: ConversePart[]): AsyncGenerator<ConversePart> {
  yield* list;
}

async function drain(turn: TurnMetering, ...list: ConversePart[]): Promise<ConversePart[]> {
  const seen: ConversePart[] = [];
  for await (const part of turn.observe(parts(...list))) seen.push(part);
  return seen;
}

/** A scripted answer that fails with `err`. */
const throwing = (err: unknown) => () => {
  throw err;
};

const MESSAGES = [{ text: "Hello there" }, { text: "Grüße aus Köln" }];

describe("TurnMetering: admission", () => {
  it("reserves the input bound of what is sent and the tokens wanted, and grants what the meter allowed", async () => {
    const { meter, calls } = scriptedMeter();
    const { turn, lines } = turnWith(meter);
    const prefetched: PrefetchedUsage = { userId: "user-1", record: new Promise(() => undefined) };
    expect(await turn.admit("Be brief.", MESSAGES, 512, prefetched)).toBe(200);
    expect(calls.admit).toHaveLength(1);
    expect(calls.admit[0]!.request).toEqual({ userId: "user-1", requestId: "request-1", tier: TIER, inputTokens: estimateInputTokens("Be brief.", MESSAGES), maxTokens: 512 });
    expect(calls.admit[0]!.prefetched).toBe(prefetched);
    expect(lines).toEqual([
      { level: "debug", message: "usage reserved", attributes: { reserved_input_tokens: estimateInputTokens("Be brief.", MESSAGES), reserved_output_tokens: 250, admission_attempts: 3 } },
    ]);
  });

  for (const code of ["limit_exceeded", "concurrency_limit", "rate_limited"] as const) {
    it(`counts a ${code} refusal once, logs its code and details at info, and passes it on`, async () => {
      const refusal = new GatewayError(code, "no", { details: { window: "daily", tokenType: "outputTokens" } });
      const { meter } = scriptedMeter({
        admit: throwing(refusal),
      });
      let refusals = 0;
      const { turn, lines } = turnWith(meter, () => refusals++);
      await expect(turn.admit("", MESSAGES, 100)).rejects.toBe(refusal);
      expect(refusals).toBe(1);
      expect(lines).toEqual([{ level: "info", message: "usage refused the turn", attributes: { code, window: "daily", tokenType: "outputTokens" } }]);
      // Nothing was admitted: nothing is charged and nothing settles.
      expect(turn.consumed()).toEqual({ inputTokens: 0, outputTokens: 0 });
      expect(await turn.settle()).toBeUndefined();
    });
  }

  it("passes a refusal on without a refusal counter", async () => {
    const { meter } = scriptedMeter({
      admit: throwing(new GatewayError("rate_limited", "slow down")),
    });
    const { turn, lines } = turnWith(meter);
    await expect(turn.admit("", MESSAGES, 100)).rejects.toMatchObject({ code: "rate_limited" });
    expect(lines.map((l) => [l.level, l.attributes])).toEqual([["info", { code: "rate_limited" }]]);
  });

  it("logs unreadable usage as an error by the error's name only, counts no refusal, and passes it on", async () => {
    for (const failure of [new GatewayError("internal_error", "usage unavailable"), new TypeError("socket hang up: secret detail")]) {
      const { meter } = scriptedMeter({
        admit: throwing(failure),
      });
      let refusals = 0;
      const { turn, lines } = turnWith(meter, () => refusals++);
      await expect(turn.admit("", MESSAGES, 100)).rejects.toBe(failure);
      expect(refusals).toBe(0);
      expect(lines).toEqual([{ level: "error", message: "usage could not be reserved", attributes: { error_name: failure.name } }]);
    }
  });
});

describe("TurnMetering: what a turn consumed", () => {
  it("passes the model's parts through unchanged, in order", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    const list: ConversePart[] = [
      { kind: "text", text: "Hi" },
      { kind: "stop", stopReason: "end_turn" },
      { kind: "usage", usage: { inputTokens: 12, outputTokens: 1 } },
    ];
    expect(await drain(turn, ...list)).toEqual(list);
  });

  it("is the model's report when it sent one, even above the estimates", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "text", text: "Hello" }, { kind: "usage", usage: { inputTokens: 9, outputTokens: 900 } });
    expect(turn.consumed()).toEqual({ inputTokens: 9, outputTokens: 900 });
  });

  it("keeps the model's report when other parts follow it", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "usage", usage: { inputTokens: 9, outputTokens: 3 } }, { kind: "stop", stopReason: "end_turn" }, { kind: "text", text: "late" });
    expect(turn.consumed()).toEqual({ inputTokens: 9, outputTokens: 3 });
  });

  it("is the reserved input and a byte bound of the streamed text when the stream ended without a report", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    // "Köln" is 5 bytes, "ok" 2: at most 7 tokens.
    await drain(turn, { kind: "text", text: "Köln" }, { kind: "stop", stopReason: "max_tokens" }, { kind: "text", text: "ok" });
    expect(turn.consumed()).toEqual({ inputTokens: estimateInputTokens("", MESSAGES), outputTokens: 7 });
  });

  it("never charges more output than admission granted (not the reservation) when the bound is larger", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "text", text: "x".repeat(230) });
    // Granted 200, reserved 250: the bound of 230 is cut to the grant.
    expect(turn.consumed().outputTokens).toBe(200);
  });

  it("is nothing before admission, and nothing when admitted but the model was never called", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    expect(turn.consumed()).toEqual({ inputTokens: 0, outputTokens: 0 });
    await turn.admit("", MESSAGES, 512);
    expect(turn.consumed()).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it("is the input estimate when the model was called but no stream opened (a cancel while it started)", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("System", MESSAGES, 512);
    turn.modelCalled();
    expect(turn.consumed()).toEqual({ inputTokens: estimateInputTokens("System", MESSAGES), outputTokens: 0 });
  });

  it("counts a stream as opened once observed, even when it sent nothing", async () => {
    const { meter } = scriptedMeter();
    const { turn } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn);
    expect(turn.consumed()).toEqual({ inputTokens: estimateInputTokens("", MESSAGES), outputTokens: 0 });
  });
});

describe("TurnMetering: settlement", () => {
  it("settles nothing when nothing was admitted", async () => {
    const { meter, calls } = scriptedMeter();
    const { turn } = turnWith(meter);
    expect(await turn.settle()).toBeUndefined();
    expect(calls.settle).toEqual([]);
    expect(calls.quota).toEqual([]);
  });

  it("charges what was consumed once, however often it is asked, and answers the quota read after it", async () => {
    const { meter, calls } = scriptedMeter();
    const { turn, lines } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "text", text: "Hi" }, { kind: "usage", usage: { inputTokens: 10, outputTokens: 2 } });
    const [first, second] = await Promise.all([turn.settle(), turn.settle()]);
    expect(first).toBe(QUOTA_NOW);
    expect(second).toBe(QUOTA_NOW);
    expect(await turn.settle()).toBe(QUOTA_NOW);
    expect(calls.settle).toHaveLength(1);
    expect(calls.settle[0]!.consumed).toEqual({ inputTokens: 10, outputTokens: 2 });
    expect(calls.settle[0]!.admission).toMatchObject({ userId: "user-1", requestId: "request-1", maxTokens: 200 });
    expect(calls.quota).toEqual([{ userId: "user-1", tier: TIER }]);
    expect(lines.filter((l) => l.level !== "debug")).toEqual([]);
  });

  it("warns with the figures when the turn had been settled already (a duplicate delivery)", async () => {
    const { meter } = scriptedMeter({ settle: () => "duplicate" });
    const { turn, lines } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "usage", usage: { inputTokens: 10, outputTokens: 2 } });
    expect(await turn.settle()).toBe(QUOTA_NOW);
    expect(lines.filter((l) => l.level === "warn")).toEqual([{ level: "warn", message: "turn was already settled", attributes: { input_tokens: 10, output_tokens: 2 } }]);
  });

  it("warns when the model reported more input than was reserved, and not when it reported exactly that", async () => {
    const reserved = estimateInputTokens("", MESSAGES);
    for (const [input, warned] of [
      [reserved + 1, true],
      [reserved, false],
    ] as const) {
      const { meter } = scriptedMeter();
      const { turn, lines } = turnWith(meter);
      await turn.admit("", MESSAGES, 512);
      await drain(turn, { kind: "usage", usage: { inputTokens: input, outputTokens: 5 } });
      await turn.settle();
      const warnings = lines.filter((l) => l.level === "warn");
      expect(warnings).toEqual(
        warned ? [{ level: "warn", message: "model reported more input tokens than were estimated", attributes: { reserved_input_tokens: reserved, input_tokens: input } }] : [],
      );
    }
  });

  it("never throws when settling fails: logs the figures for reconciliation and works the quota out from admission", async () => {
    const { meter, calls } = scriptedMeter({
      settle: throwing(new RangeError("throttled: internal detail")),
    });
    const { turn, lines } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "usage", usage: { inputTokens: 30, outputTokens: 70 } });
    const quota = await turn.settle();
    expect(lines.filter((l) => l.level === "error")).toEqual([
      { level: "error", message: "usage could not be settled", attributes: { error_name: "RangeError", input_tokens: 30, output_tokens: 70 } },
    ]);
    // No quota read after a failed settlement.
    expect(calls.quota).toEqual([]);
    const admitted = admissionFor(calls.admit[0]!.request).usage;
    expect(quota).toEqual(
      buildQuota(
        "default",
        TIER.tier,
        { ...admitted, daily: { inputTokens: 1030, outputTokens: 470 }, monthly: { inputTokens: 9030, outputTokens: 3070 } },
        ADMITTED_AT,
      ),
    );
    expect(quota!.daily.inputTokens.used).toBe(1030);
    expect(quota!.monthly.outputTokens.used).toBe(3070);
  });

  it("passes on, and logs, a failure that is not even an Error (a bare rejection)", async () => {
    const { meter } = scriptedMeter({
      admit: throwing(undefined),
    });
    const { turn, lines } = turnWith(meter);
    await expect(turn.admit("", MESSAGES, 100)).rejects.toBeUndefined();
    expect(lines).toEqual([{ level: "error", message: "usage could not be reserved", attributes: { error_name: undefined } }]);
    const settling = scriptedMeter({
      settle: throwing(null),
    });
    const second = turnWith(settling.meter);
    await second.turn.admit("", MESSAGES, 100);
    await drain(second.turn, { kind: "usage", usage: { inputTokens: 1, outputTokens: 1 } });
    expect(await second.turn.settle()).toMatchObject({ tier: "default" });
    expect(second.lines.filter((l) => l.level === "error")).toEqual([{ level: "error", message: "usage could not be settled", attributes: { error_name: undefined, input_tokens: 1, output_tokens: 1 } }]);
  });

  it("works the quota out from admission when it cannot be read after settling", async () => {
    const { meter, calls } = scriptedMeter({
      quota: throwing(new Error("unreachable")),
    });
    const { turn, lines } = turnWith(meter);
    await turn.admit("", MESSAGES, 512);
    await drain(turn, { kind: "usage", usage: { inputTokens: 1, outputTokens: 2 } });
    const quota = await turn.settle();
    expect(calls.settle).toHaveLength(1);
    expect(quota).toMatchObject({ tier: "default", daily: { inputTokens: { used: 1001 }, outputTokens: { used: 402 } }, monthly: { inputTokens: { used: 9001 }, outputTokens: { used: 3002 } } });
    expect(quota!.monthly.resetsAt).toBe("2030-06-01T00:00:00.000Z");
    expect(lines.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
  });
});
