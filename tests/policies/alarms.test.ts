import { describe, expect, it } from "vitest";
import { changed, compliantStack, lambdaFunction, resource, violations, withInputs } from "./fixtures.js";
import { policies } from "../../policies/policies.js";

describe("worker-error-alarm", () => {
  it("is mandatory by default, since every stack creates its alarms (the e-mail is what is optional)", () => {
    expect(policies.find((p) => p.name === "worker-error-alarm")?.enforcementLevel).toBe("mandatory");
  });

  it("passes when an alarm watches the worker's Errors metric", async () => {
    expect(await violations("worker-error-alarm", compliantStack())).toEqual([]);
  });

  it("reports a worker no alarm watches", async () => {
    expect(await violations("worker-error-alarm", changed("worker-errors", () => undefined))).toEqual([
      expect.stringContaining("no alarm watches the Errors metric of the chat worker worker-function"),
    ]);
  });

  it("does not count an alarm on another function", async () => {
    expect(await violations("worker-error-alarm", withInputs("worker-errors", { dimensions: { FunctionName: "reporter" } }))).toHaveLength(1);
  });

  it("takes only AppSync's EVENT handler for the chat worker, not a function SNS invokes", async () => {
    const notifier = lambdaFunction("notifier");
    const permission = resource("aws:lambda/permission:Permission", "notifier-sns", { function: "notifier", principal: "sns.amazonaws.com", action: "lambda:InvokeFunction" });
    expect(await violations("worker-error-alarm", [...compliantStack(), notifier, permission])).toEqual([]);
  });

  it("counts an alarm whose metric-math query reads the worker's Errors", async () => {
    const mathAlarm = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "worker-error-rate", {
      metricQueries: [
        { id: "errors", metric: { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "worker" }, period: 60, stat: "Sum" } },
        { id: "rate", expression: "errors / 1", returnData: true },
      ],
    });
    expect(await violations("worker-error-alarm", [...changed("worker-errors", () => undefined), mathAlarm])).toEqual([]);
  });
});

describe("alarms-notify", () => {
  it("passes alarms that notify a topic", async () => {
    expect(await violations("alarms-notify", compliantStack())).toEqual([]);
  });

  it("reports an alarm without alarm actions", async () => {
    expect(await violations("alarms-notify", withInputs("worker-errors", { alarmActions: [] }))).toEqual([
      expect.stringContaining("alarm worker-errors notifies nobody when it fires"),
    ]);
  });
});

describe("worker-error-alarm, metric by metric", () => {
  const alarmOn = (metric: Record<string, unknown>) => withInputs("worker-errors", { namespace: undefined, metricName: undefined, dimensions: undefined, ...metric });
  const errorsOf = { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "worker" } };

  it("counts only the AWS/Lambda Errors metric of the worker, not its throttles nor another namespace's Errors", async () => {
    expect(await violations("worker-error-alarm", alarmOn(errorsOf))).toEqual([]);
    expect(await violations("worker-error-alarm", alarmOn({ ...errorsOf, metricName: "Throttles" }))).toHaveLength(1);
    expect(await violations("worker-error-alarm", alarmOn({ ...errorsOf, namespace: "AiGateway" }))).toHaveLength(1);
    expect(await violations("worker-error-alarm", alarmOn({ ...errorsOf, dimensions: undefined }))).toHaveLength(1);
  });

  it("reads the metric of a math query, not the query's own fields", async () => {
    const queries = (query: Record<string, unknown>) => withInputs("worker-errors", { namespace: undefined, metricName: undefined, dimensions: undefined, metricQueries: [query] });
    expect(await violations("worker-error-alarm", queries({ id: "e", metric: errorsOf }))).toEqual([]);
    expect(await violations("worker-error-alarm", queries({ id: "e", ...errorsOf }))).toHaveLength(1);
  });

  it("reads metric queries past entries that are not objects (unresolved outputs) instead of failing", async () => {
    const queries = withInputs("worker-errors", { namespace: undefined, metricName: undefined, dimensions: undefined, metricQueries: [null, "errors", { id: "e", metric: errorsOf }] });
    expect(await violations("worker-error-alarm", queries)).toEqual([]);
  });

  it("reports a stack without a chat worker, naming how to wire one", async () => {
    const stack = compliantStack().filter((r) => r.name !== "inbound");
    const found = await violations("worker-error-alarm", stack);
    expect(found).toContain(
      "no chat worker found (no function is an AppSync EVENT handler). To fix: wire the worker as the Inbound namespace's onPublish handler",
    );
  });
});
