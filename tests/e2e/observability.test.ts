/**
 * Observability through `npm start`'s gateway: a chat turn leaves its EMF metrics, JSON log
 * lines without the prompt, and an analytics record that the local Firehose writes as Parquet
 * and every named query (`npm run analytics`) reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TURN_SUMMARY_MESSAGE } from "../../functions/lib/observability/log-queries.js";
import { NAMED_QUERIES } from "../../functions/lib/analytics/queries.js";
import { main } from "../../tools/analytics/command.js";
import { runLocalQuery, runLocalSql } from "../../tools/analytics/local-queries.js";
import { captureStdout, jsonLines } from "../support/stdout.js";
import { chatOnce, signInDemoUser, startTestGateway, type TestGateway } from "./support/gateway.js";

const PROMPT = "the capybara migration plan nobody should log";

let t: TestGateway;
let stdout: ReturnType<typeof captureStdout> | undefined;
/** What the gateway printed so far (the handlers run in this process). */
let sub: string;

beforeAll(async () => {
  // Local mode hides EMF by default; the handlers read this when their container starts.
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
  stdout = captureStdout();
  t = await startTestGateway();
  const user = await signInDemoUser(t, "pro");
  sub = user.sub;
  const events = await chatOnce(t, user, PROMPT);
  expect(events.at(-1)).toMatchObject({ type: "done", stopReason: "end_turn" });
  // The record leaves after the answer, before the invocation ends; the local Firehose buffers
  // it and writes its file about a second later on its own (no flush here: `npm start` has none).
  const deadline = Date.now() + 20_000;
  while (t.gateway.firehose!.files.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  stdout?.restore();
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  await t?.close();
});

const printedLines = () => jsonLines(stdout?.chunks ?? []) as Record<string, any>[];

describe("a chat turn through the local gateway", () => {
  it("emits its token and latency metrics as EMF in the stack's namespace, per model", () => {
    const emf = printedLines().filter((l) => l._aws && l.InputTokens !== undefined);
    expect(emf.length).toBeGreaterThanOrEqual(1);
    const turn = emf.at(-1)!;
    expect(turn._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: t.gateway.config.observability.metricsNamespace, Dimensions: [["service", "ModelId"]] });
    expect(turn).toMatchObject({ ModelId: expect.any(String), InputTokens: expect.any(Number), OutputTokens: expect.any(Number), ResponseLatency: expect.any(Number), FirstTokenLatency: expect.any(Number) });
  });

  it("logs a JSON summary line with correlation id, user, conversation, model and tier, and never the prompt", () => {
    const summary = printedLines().find((l) => l.message === TURN_SUMMARY_MESSAGE && l.user_id === sub);
    expect(summary).toMatchObject({
      correlation_id: expect.any(String),
      user_id: sub,
      conversation_id: expect.any(String),
      model_id: expect.any(String),
      tier: "pro",
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
    });
    const printed = stdout?.chunks.join("") ?? "";
    expect(printed).toContain(sub);
    expect(printed).not.toContain("capybara");
  });

  it("writes an analytics row under year=/month=/day= that every named query reads", async () => {
    const firehose = t.gateway.firehose!;
    expect(firehose.dir).toBe(`${t.stateDir}/analytics`);
    const now = new Date();
    expect(firehose.files[0]).toContain(`/turns/year=${now.getUTCFullYear()}/month=${String(now.getUTCMonth() + 1).padStart(2, "0")}/`);
    const { rows } = await runLocalSql(firehose.dir, `SELECT tier, cached, error_code, estimated_cost_usd > 0, prompt_preview FROM turns WHERE user_id = '${sub}'`);
    // The dev stack prices its models and keeps previews off.
    expect(rows).toEqual([["pro", false, null, true, null]]);
    for (const query of NAMED_QUERIES) {
      const result = await runLocalQuery(firehose.dir, query);
      expect(result.rows.length, query.name).toBeGreaterThan(0);
    }
    const perUser = await runLocalQuery(firehose.dir, NAMED_QUERIES.find((q) => q.name === "tokens-by-user")!);
    expect(perUser.rows.map((r) => r[0])).toContain(sub);
  });

  it("answers `npm run analytics` for the gateway's state directory", async () => {
    const out: string[] = [];
    expect(await main(["daily-active-users", "--state-dir", t.stateDir], (text) => out.push(text))).toBe(0);
    expect(out.join("\n")).toMatch(/day\s+active_users\s+turns/);
  });
});
