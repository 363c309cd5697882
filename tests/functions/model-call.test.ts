/**
 * The model call (bedrock/converse.ts) against a scripted Bedrock client, Bedrock failures in
 * protocol terms (bedrock/errors.ts), a cancelled answer's estimate (cancel/consumed.ts) and
 * the small pieces a worker reads from its environment (guardrail, credentials, region,
 * tables). The same paths through the real SDK and the Bedrock-compatible server are the worker
 * suites'; these pin what those cannot reach cheaply (idle timers, abort wiring, every name).
 */
import type { BedrockRuntimeClient, ConverseStreamCommand, ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import { afterEach, describe, expect, it } from "vitest";
import { converseStream, type ConversePart, type ConverseRequest } from "../../functions/lib/bedrock/converse.js";
import { bedrockFailure, DEADLINE_REASON, isModelNotEnabled, isRetryable, MODEL_NOT_ENABLED, warrantsFallback } from "../../functions/lib/bedrock/errors.js";
import { estimateConsumed } from "../../functions/lib/cancel/consumed.js";
import { contextTokensOf } from "../../functions/lib/conversations/context.js";
import { ENV, requireEnv } from "../../functions/lib/env.js";
import { guardrailFromEnv } from "../../functions/lib/guardrail/settings.js";
import { credentialsTreatedAsExpired, credentialsWillNeedRefresh } from "../../functions/lib/lambda-credentials.js";
import { errorBody, failureName, GatewayError } from "../../functions/lib/protocol/errors.js";
import { region } from "../../functions/lib/runtime.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, keyAttributes, TABLES, USAGE_TABLE } from "../../functions/lib/tables.js";

type StreamEvent = ConverseStreamOutput;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Bedrock client whose stream is `script(signal)`; records each command's input and signal. */
function scriptedClient(script: (signal: AbortSignal) => AsyncIterable<StreamEvent>, options: { reject?: unknown } = {}) {
  const calls: { input: ConverseStreamCommand["input"]; signal: AbortSignal }[] = [];
  const client = {
    send: async (command: ConverseStreamCommand, { abortSignal }: { abortSignal: AbortSignal }) => {
      calls.push({ input: command.input, signal: abortSignal });
      if (options.reject) throw options.reject;
      return { stream: script(abortSignal) };
    },
  } as unknown as BedrockRuntimeClient;
  return { client, calls };
}

async function* events(list: StreamEvent[], gapMs = 0): AsyncGenerator<StreamEvent> {
  for (const event of list) {
    if (gapMs) await sleep(gapMs);
    yield event;
  }
}

/** Events, then nothing until the signal aborts (a model that stopped sending). */
async function* thenSilence(list: StreamEvent[], signal: AbortSignal, onAbort: "throw" | "end" = "throw"): AsyncGenerator<StreamEvent> {
  yield* list;
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  if (onAbort === "throw") throw Object.assign(new Error("aborted"), { name: "AbortError" });
}

const text = (t: string): StreamEvent => ({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: t } } }) as StreamEvent;
const stop = (stopReason?: string): StreamEvent => ({ messageStop: { stopReason } }) as StreamEvent;
const usage = (inputTokens?: number, outputTokens?: number): StreamEvent => ({ metadata: { usage: { inputTokens, outputTokens }, metrics: {} } }) as StreamEvent;

const REQUEST: ConverseRequest = { modelId: "us.amazon.nova-lite-v1:0", system: "Be brief.", messages: [{ role: "user", text: "Hi" }], maxTokens: 100 };

async function collect(parts: AsyncGenerator<ConversePart>): Promise<ConversePart[]> {
  const out: ConversePart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

async function failure(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("the model call", () => {
  it("sends the system prompt, messages, token limit, temperature and guardrail as ConverseStream wants them", async () => {
    const { client, calls } = scriptedClient(() => events([stop("end_turn")]));
    const request: ConverseRequest = {
      ...REQUEST,
      messages: [
        { role: "user", text: "Hi" },
        { role: "assistant", text: "Hello" },
        { role: "user", text: "Again" },
      ],
      temperature: 0,
      guardrail: { identifier: "gr-1", version: "3" },
    };
    await collect(converseStream(client, request));
    expect(calls[0]!.input).toEqual({
      modelId: REQUEST.modelId,
      system: [{ text: "Be brief." }],
      messages: [
        { role: "user", content: [{ text: "Hi" }] },
        { role: "assistant", content: [{ text: "Hello" }] },
        { role: "user", content: [{ text: "Again" }] },
      ],
      inferenceConfig: { maxTokens: 100, temperature: 0 },
      guardrailConfig: { guardrailIdentifier: "gr-1", guardrailVersion: "3", streamProcessingMode: "sync" },
    });
  });

  it("sends no system block for an empty system prompt, and neither temperature nor guardrail when unset", async () => {
    const { client, calls } = scriptedClient(() => events([stop()]));
    await collect(converseStream(client, { ...REQUEST, system: "" }));
    expect(calls[0]!.input).toStrictEqual({ modelId: REQUEST.modelId, system: [], messages: [{ role: "user", content: [{ text: "Hi" }] }], inferenceConfig: { maxTokens: 100 } });
  });

  it("yields text, the stop reason (end_turn when none is given) and the usage (0 for a missing count)", async () => {
    const { client } = scriptedClient(() => events([{ messageStart: { role: "assistant" } } as StreamEvent, text("Hel"), text(""), text("lo"), stop(), usage(12)]));
    expect(await collect(converseStream(client, REQUEST))).toEqual([
      { kind: "text", text: "Hel" },
      { kind: "text", text: "lo" },
      { kind: "stop", stopReason: "end_turn" },
      { kind: "usage", usage: { inputTokens: 12, outputTokens: 0 } },
    ]);
    const other = scriptedClient(() => events([stop("max_tokens"), usage(undefined, 7)]));
    expect(await collect(converseStream(other.client, REQUEST))).toEqual([
      { kind: "stop", stopReason: "max_tokens" },
      { kind: "usage", usage: { inputTokens: 0, outputTokens: 7 } },
    ]);
  });

  it("takes a stream that ends without the model saying it stopped as a failed answer", async () => {
    const { client } = scriptedClient(() => events([text("Hal")]));
    const err = await failure(collect(converseStream(client, REQUEST)));
    expect(err).toMatchObject({ code: "model_error", message: "The model could not complete this answer." });
  });

  it("gives up on a model that stops sending for idleTimeoutMs, as a retryable timeout, and closes its stream", async () => {
    const { client, calls } = scriptedClient((signal) => thenSilence([text("Hal")], signal));
    const err = await failure(collect(converseStream(client, REQUEST, { idleTimeoutMs: 40 })));
    expect(err).toMatchObject({ code: "model_unavailable", message: "The model is unavailable right now. Please try again later.", extra: { retryAfterSeconds: 30 } });
    expect(calls[0]!.signal.aborted).toBe(true);
  });

  it("restarts the idle timer with every event, so a slow but steady stream completes", async () => {
    const { client } = scriptedClient(() => events([text("a"), text("b"), text("c"), text("d"), stop()], 25));
    const parts = await collect(converseStream(client, REQUEST, { idleTimeoutMs: 60 }));
    expect(parts.filter((p) => p.kind === "text")).toHaveLength(4);
  });

  it("waits as long as the model takes when no idle timeout is set", async () => {
    const { client } = scriptedClient(() => events([text("a"), stop()], 60));
    expect(await collect(converseStream(client, REQUEST, { idleTimeoutMs: 0 }))).toHaveLength(2);
  });

  it("does not call the model when the caller's signal has fired already, and throws its reason", async () => {
    const { client, calls } = scriptedClient(() => events([stop()]));
    const reason = new Error("cancelled before");
    const err = await failure(collect(converseStream(client, REQUEST, { signal: AbortSignal.abort(reason) })));
    expect(err).toBe(reason);
    expect(calls).toEqual([]);
  });

  it("aborts the model's stream when the caller's signal fires mid-answer, and throws the caller's reason", async () => {
    for (const onAbort of ["throw", "end"] as const) {
      const { client, calls } = scriptedClient((signal) => thenSilence([text("Hal")], signal, onAbort));
      const caller = new AbortController();
      const reason = new GatewayError("cancelled", "stopped by the user");
      const parts: ConversePart[] = [];
      const err = await failure(
        (async () => {
          for await (const part of converseStream(client, REQUEST, { signal: caller.signal })) {
            parts.push(part);
            caller.abort(reason);
          }
        })(),
      );
      expect(err).toBe(reason);
      expect(parts).toEqual([{ kind: "text", text: "Hal" }]);
      expect(calls[0]!.signal.aborted).toBe(true);
    }
  });

  it("closes the model's stream when its reader stops early, and when the answer is complete", async () => {
    const early = scriptedClient((signal) => thenSilence([text("a"), text("b")], signal));
    for await (const part of converseStream(early.client, REQUEST)) {
      expect(part).toEqual({ kind: "text", text: "a" });
      break;
    }
    expect(early.calls[0]!.signal.aborted).toBe(true);
    const whole = scriptedClient(() => events([stop()]));
    await collect(converseStream(whole.client, REQUEST, { signal: new AbortController().signal }));
    expect(whole.calls[0]!.signal.aborted).toBe(true);
  });

  it("turns a refused call into the protocol's failure, never the exception's text", async () => {
    const { client } = scriptedClient(() => events([]), { reject: Object.assign(new Error("Rate exceeded for account 123"), { name: "ThrottlingException" }) });
    const err = await failure(collect(converseStream(client, REQUEST)));
    expect(err).toMatchObject({ code: "model_throttled" });
    expect((err as Error).message).not.toContain("123");
  });
});

describe("Bedrock failures in protocol terms", () => {
  const cases: [string, string, string, number | undefined][] = [
    ["ThrottlingException", "model_throttled", "The model is busy right now. Please try again shortly.", 5],
    ["ServiceQuotaExceededException", "model_throttled", "The model is busy right now. Please try again shortly.", 5],
    ["throttlingException", "model_throttled", "The model is busy right now. Please try again shortly.", 5],
    ...[
      "ServiceUnavailableException",
      "serviceUnavailableException",
      "ModelNotReadyException",
      "ModelTimeoutException",
      "InternalServerException",
      "internalServerException",
      "ResourceNotFoundException",
      "TimeoutError",
      "ModelIdleTimeout",
    ].map((name): [string, string, string, number] => [name, "model_unavailable", "The model is unavailable right now. Please try again later.", 30]),
    ["ValidationException", "model_error", "The model could not complete this answer.", undefined],
    ["ModelStreamErrorException", "model_error", "The model could not complete this answer.", undefined],
  ];

  it.each(cases)("%s is %s", (name, code, message, retryAfterSeconds) => {
    const err = bedrockFailure(Object.assign(new Error("internal detail"), { name }));
    expect(err).toBeInstanceOf(GatewayError);
    expect({ code: err.code, message: err.message, retryAfterSeconds: err.extra.retryAfterSeconds }).toEqual({ code, message, retryAfterSeconds });
  });

  it("calls a model the account may not use not enabled, an administrator's matter", () => {
    const err = bedrockFailure({ name: "AccessDeniedException" });
    expect(err).toMatchObject({
      code: "model_unavailable",
      message: "This model is not enabled on this gateway. Please choose another model or contact the gateway's administrator.",
      extra: { details: { reason: MODEL_NOT_ENABLED } },
    });
    expect(MODEL_NOT_ENABLED).toBe("model_not_enabled");
    expect(isModelNotEnabled(err)).toBe(true);
    expect(isRetryable(err)).toBe(false);
    expect(warrantsFallback(err)).toBe(true);
  });

  it("keeps the exception underneath for the operator's log, and out of the user's error event", () => {
    const err = bedrockFailure(Object.assign(new Error("internal detail"), { name: "ThrottlingException" }));
    expect(failureName(err)).toBe("ThrottlingException");
    expect(JSON.stringify(errorBody(err))).not.toMatch(/internal detail|ThrottlingException/);
    expect(failureName(new GatewayError("cancelled", "stopped"))).toBe("GatewayError");
    expect(failureName(new RangeError("x"))).toBe("RangeError");
    expect(failureName(undefined)).toBeUndefined();
  });

  it("passes a GatewayError through, and takes anything nameless as a model error", () => {
    const own = new GatewayError("cancelled", "stopped");
    expect(bedrockFailure(own)).toBe(own);
    expect(bedrockFailure(null).code).toBe("model_error");
    expect(bedrockFailure(undefined).code).toBe("model_error");
    expect(bedrockFailure("text").code).toBe("model_error");
  });

  it("retries throttling and outages, falls back on them and on a model not enabled, never at the deadline", () => {
    const throttled = bedrockFailure({ name: "ThrottlingException" });
    const outage = bedrockFailure({ name: "ServiceUnavailableException" });
    const broken = bedrockFailure({ name: "ValidationException" });
    expect([throttled, outage, broken].map(isRetryable)).toEqual([true, true, false]);
    expect([throttled, outage, broken].map(warrantsFallback)).toEqual([true, true, false]);
    expect([throttled, outage, broken].map(isModelNotEnabled)).toEqual([false, false, false]);
    const deadline = new GatewayError("model_unavailable", "out of time", { details: { reason: DEADLINE_REASON } });
    expect(DEADLINE_REASON).toBe("deadline");
    expect(isRetryable(deadline)).toBe(true);
    expect(warrantsFallback(deadline)).toBe(false);
    // Another code with the not-enabled reason is not a model that is not enabled.
    expect(isModelNotEnabled(new GatewayError("internal_error", "x", { details: { reason: MODEL_NOT_ENABLED } }))).toBe(false);
    expect(isModelNotEnabled(new GatewayError("model_unavailable", "x", { details: { reason: "other" } }))).toBe(false);
  });
});

describe("a cancelled answer's estimate", () => {
  const request = { system: "Be brief.", messages: [{ role: "user" as const, text: "Hello" }, { role: "user" as const, text: "Grüße" }] };

  it("is nothing when the model never started", () => {
    expect(estimateConsumed(request, "streamed", false)).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it("is the input as sent and a third of a token per streamed byte, rounded up", () => {
    const input = contextTokensOf("Be brief.") + contextTokensOf("Hello") + contextTokensOf("Grüße");
    expect(estimateConsumed(request, "", true)).toEqual({ inputTokens: input, outputTokens: 0 });
    expect(estimateConsumed(request, "abcd", true)).toEqual({ inputTokens: input, outputTokens: 2 });
    expect(estimateConsumed(request, "Köln", true)).toEqual({ inputTokens: input, outputTokens: 2 });
    expect(estimateConsumed(request, "abcdef", true).outputTokens).toBe(2);
  });
});

describe("what a worker reads from its environment", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("applies a guardrail only when both its id and version are set, and refuses half of one", () => {
    expect(guardrailFromEnv({})).toBeUndefined();
    expect(guardrailFromEnv({ [ENV.guardrailId]: "gr-1", [ENV.guardrailVersion]: "2" })).toEqual({ identifier: "gr-1", version: "2" });
    expect(() => guardrailFromEnv({ [ENV.guardrailId]: "gr-1" })).toThrow("GUARDRAIL_ID and GUARDRAIL_VERSION must be set together");
    expect(() => guardrailFromEnv({ [ENV.guardrailVersion]: "2" })).toThrow("GUARDRAIL_ID and GUARDRAIL_VERSION must be set together");
  });

  it("requires a set, non-empty variable, naming it when missing", () => {
    process.env.SOME_TEST_VARIABLE = "value";
    expect(requireEnv("SOME_TEST_VARIABLE")).toBe("value");
    process.env.SOME_TEST_VARIABLE = "";
    expect(() => requireEnv("SOME_TEST_VARIABLE")).toThrow("environment variable SOME_TEST_VARIABLE is not set");
  });

  it("takes the region from AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1", () => {
    process.env.AWS_REGION = "eu-west-1";
    process.env.AWS_DEFAULT_REGION = "eu-central-1";
    expect(region()).toBe("eu-west-1");
    delete process.env.AWS_REGION;
    expect(region()).toBe("eu-central-1");
    delete process.env.AWS_DEFAULT_REGION;
    expect(region()).toBe("us-east-1");
  });

  it("refreshes credentials that expire, and treats them as expired five minutes early", () => {
    expect(credentialsWillNeedRefresh({ accessKeyId: "a", secretAccessKey: "b" })).toBe(false);
    expect(credentialsWillNeedRefresh(undefined)).toBe(false);
    expect(credentialsWillNeedRefresh({ accessKeyId: "a", secretAccessKey: "b", expiration: new Date() })).toBe(true);
    expect(credentialsTreatedAsExpired({ accessKeyId: "a", secretAccessKey: "b" })).toBe(false);
    expect(credentialsTreatedAsExpired(undefined)).toBe(false);
    expect(credentialsTreatedAsExpired({ accessKeyId: "a", secretAccessKey: "b", expiration: new Date(Date.now() + 299_000) })).toBe(true);
    expect(credentialsTreatedAsExpired({ accessKeyId: "a", secretAccessKey: "b", expiration: new Date(Date.now() + 310_000) })).toBe(false);
  });
});

describe("table schemas", () => {
  it("keep their names, keys and expiry attributes (deployed tables and stored rows depend on them)", () => {
    expect(TABLES).toEqual([IDEMPOTENCY_TABLE, USAGE_TABLE, CONVERSATIONS_TABLE, CACHE_TABLE]);
    expect(IDEMPOTENCY_TABLE).toEqual({ name: "idempotency", partitionKey: "id", ttlAttribute: "expiration" });
    expect(USAGE_TABLE).toEqual({ name: "usage", partitionKey: "user_id", sortKey: "period_id", ttlAttribute: "ttl" });
    expect(CONVERSATIONS_TABLE).toEqual({
      name: "conversations",
      partitionKey: "user_id",
      sortKey: "sk",
      ttlAttribute: "ttl",
      indexes: [{ name: "by-updated", partitionKey: "user_id", sortKey: "updated_at" }],
    });
    expect(CACHE_TABLE).toEqual({ name: "cache", partitionKey: "cache_key", ttlAttribute: "ttl" });
  });

  it("list each key attribute once, index keys included", () => {
    expect(keyAttributes(CONVERSATIONS_TABLE)).toEqual(["user_id", "sk", "updated_at"]);
    expect(keyAttributes(CACHE_TABLE)).toEqual(["cache_key"]);
  });
});
