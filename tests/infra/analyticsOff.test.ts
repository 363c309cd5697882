/**
 * A stack with analytics off and an alarm address: no analytics resources and no analytics
 * permission or variable on the worker; the dashboard and alarms remain, and the alarms mail
 * the address.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../functions/lib/env.js";
import { runMockedStack, type MockedResource } from "../../tools/mocked-stack.js";
import { actionsOf, one, ofType, roleOf, roleStatements, T } from "./stackQueries.js";

let resources: MockedResource[];
beforeAll(async () => {
  ({ resources } = await runMockedStack({
    stack: "dev",
    configOverrides: {
      analytics: { enabled: false },
      observability: { logRetentionDays: 7, metricsNamespace: "AiGateway/dev", alarmEmail: "oncall@example.com" },
    },
  }));
});

describe("a stack with analytics off", () => {
  it("creates no records bucket, delivery stream, Glue table or Athena workgroup", () => {
    // The web app's bucket remains; no analytics one.
    expect(ofType(resources, "aws:s3/bucket:Bucket").filter((b) => b.name.includes("analytics"))).toEqual([]);
    for (const type of ["aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "aws:glue/catalogTable:CatalogTable", "aws:athena/workgroup:Workgroup", "aws:athena/namedQuery:NamedQuery"]) {
      expect(ofType(resources, type), type).toEqual([]);
    }
  });

  it("gives the worker no delivery stream and no Firehose permission, so it records nothing", () => {
    const worker = one(resources, T.fn, "worker-chat-function");
    expect(worker.inputs.environment.variables).not.toHaveProperty(ENV.analyticsStream);
    expect(roleStatements(resources, roleOf(resources, worker)).flatMap(actionsOf).filter((a) => a.startsWith("firehose:"))).toEqual([]);
  });

  it("keeps the dashboard without the analytics widget, and mails the alarms to observability.alarmEmail", () => {
    const body = JSON.parse(one(resources, "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody);
    expect(body.widgets.map((w: { properties: { title: string } }) => w.properties.title)).not.toContain("Analytics delivery");
    const topic = one(resources, "aws:sns/topic:Topic");
    expect(one(resources, "aws:sns/topicSubscription:TopicSubscription").inputs).toEqual({ topic: topic.state.arn, protocol: "email", endpoint: "oncall@example.com" });
    expect(ofType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").length).toBeGreaterThan(5);
  });
});
