/**
 * Per-model metrics as they leave the worker: one EMF line per turn under [service, ModelId],
 * figures that never mix between models or carry over a failed turn, and the invocation's
 * warning and count when Powertools refuses a figure.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it } from "vitest";
import { METRIC, MetricUnit, ModelMetrics, reportMetricsFailure } from "../../functions/lib/observability/metrics.js";
import { emfWhile } from "../support/emf.js";
import { jsonLines, stdoutWhile } from "../support/stdout.js";

const OPTIONS = { namespace: "Test", serviceName: "test" };
/** The dimension sets of an EMF line. */
const dimensionsOf = (line: Record<string, unknown>) =>
  (line._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions;

describe("per-model metrics", () => {
  it("leave one EMF line per turn, dimensioned by service and model", async () => {
    const metrics = new ModelMetrics(OPTIONS);
    const emf = await emfWhile(async () =>
      metrics.record("model-a", [
        [METRIC.inputTokens, MetricUnit.Count, 40],
        [METRIC.outputTokens, MetricUnit.Count, 12],
      ]),
    );
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ ModelId: "model-a", service: "test", InputTokens: 40, OutputTokens: 12 });
    expect(dimensionsOf(emf[0]!)).toEqual([["service", "ModelId"]]);
  });

  it("keep each model's figures apart, turn after turn", async () => {
    const metrics = new ModelMetrics(OPTIONS);
    const emf = await emfWhile(async () => {
      metrics.record("model-a", [[METRIC.inputTokens, MetricUnit.Count, 1]]);
      metrics.record("model-b", [[METRIC.inputTokens, MetricUnit.Count, 2]]);
      metrics.record("model-a", [[METRIC.outputTokens, MetricUnit.Count, 3]]);
    });
    expect(emf.map((l) => [l.ModelId, l.InputTokens, l.OutputTokens])).toEqual([
      ["model-a", 1, undefined],
      ["model-b", 2, undefined],
      ["model-a", undefined, 3],
    ]);
  });

  it("drop a failed turn's half-recorded figures instead of sending them with the next turn", async () => {
    const failures: unknown[] = [];
    const metrics = new ModelMetrics(OPTIONS, (err) => failures.push(err));
    const emf = await emfWhile(async () => {
      // The same name with a second unit is an error in Powertools, after the first was stored.
      metrics.record("model-a", [
        [METRIC.outputTokens, MetricUnit.Count, 99],
        [METRIC.outputTokens, MetricUnit.Seconds, 1],
      ]);
      metrics.record("model-a", [[METRIC.inputTokens, MetricUnit.Count, 5]]);
    });
    expect(failures).toHaveLength(1);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ ModelId: "model-a", InputTokens: 5 });
    expect(emf[0]).not.toHaveProperty("OutputTokens");
  });
});

describe("a metrics failure at the invocation", () => {
  it("is a warning naming the error, never its text, and one MetricsNotRecorded", async () => {
    const metrics = new Metrics(OPTIONS);
    const lines = jsonLines(
      await stdoutWhile(async () => {
        reportMetricsFailure(new Logger({ serviceName: "test", logLevel: "DEBUG" }), metrics)(new RangeError("secret detail"));
        metrics.publishStoredMetrics();
      }, { passThrough: false, stderr: true }),
    );
    const warning = lines.find((l) => l.message === "metrics not recorded");
    expect(warning).toMatchObject({ level: "WARN", error_name: "RangeError" });
    expect(JSON.stringify(lines)).not.toContain("secret detail");
    expect(lines.find((l) => "_aws" in l)).toMatchObject({ [METRIC.metricsFailures]: 1 });
  });

  it("counts a failure that came without an error too", async () => {
    const metrics = new Metrics(OPTIONS);
    const emf = await emfWhile(async () => {
      reportMetricsFailure(new Logger({ serviceName: "test", logLevel: "CRITICAL" }), metrics)(undefined);
      metrics.publishStoredMetrics();
    });
    expect(emf).toEqual([expect.objectContaining({ [METRIC.metricsFailures]: 1 })]);
  });

  it("never throws, even when the logger cannot write", () => {
    const report = reportMetricsFailure(
      {
        warn: () => {
          throw new Error("stdout is gone");
        },
      },
      new Metrics(OPTIONS),
    );
    expect(() => report(new Error("x"))).not.toThrow();
  });
});
