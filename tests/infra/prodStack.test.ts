/**
 * The prod stack from the real Pulumi.prod.yaml (plus a Google identity provider, to see how
 * federation secrets travel): what production adds over dev.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { BUNDLED_CONFIG_FILE } from "../../functions/lib/config/load.js";
import { runMockedStack, type MockedStack } from "../../tools/mocked-stack.js";
import { archiveFile, one, ofType, T } from "./stackQueries.js";

const prodFile = parseYaml(readFileSync(new URL("../../Pulumi.prod.yaml", import.meta.url), "utf8")) as {
  config: Record<string, Record<string, unknown>>;
};
const GOOGLE_SECRET = "google-client-secret-value";

let stack: MockedStack;
beforeAll(async () => {
  stack = await runMockedStack({
    stack: "prod",
    configOverrides: {
      identity: {
        ...prodFile.config["ai-gateway:identity"],
        domainPrefix: "ai-gateway-prod-test",
        callbackUrls: ["https://chat.example.com/"],
        logoutUrls: ["https://chat.example.com/"],
        providers: { google: { clientId: "google-client-id", clientSecret: GOOGLE_SECRET } },
      },
    },
  });
});
const resources = () => stack.resources;

describe("prod stack: protection and retention", () => {
  it("turns on point-in-time recovery and deletion protection for every table, the usage table included", () => {
    const tables = ofType(resources(), T.table);
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining([expect.stringMatching(/-usage$/)]));
    for (const table of tables) {
      expect(table.inputs).toMatchObject({ pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: true });
    }
  });

  it("keeps every log group (three functions, the Events API, analytics delivery) for 90 days", () => {
    const groups = ofType(resources(), T.logGroup);
    expect(groups).toHaveLength(5);
    for (const group of groups) expect(group.inputs.retentionInDays, group.name).toBe(90);
  });

  it("protects the user pool from deletion, requires MFA and allows no self sign-up", () => {
    expect(one(resources(), T.userPool).inputs).toMatchObject({
      deletionProtection: "ACTIVE",
      mfaConfiguration: "ON",
      softwareTokenMfaConfiguration: { enabled: true },
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
    });
  });

  it("reserves production concurrency and memory for the worker", () => {
    expect(one(resources(), T.fn, "worker-chat-function").inputs).toMatchObject({ reservedConcurrentExecutions: 100, memorySize: 1024 });
  });

  it("pins the provider to the account Pulumi.prod.yaml allows, so other credentials cannot deploy prod", () => {
    const allowed = prodFile.config["aws:allowedAccountIds"];
    expect(allowed).toEqual([expect.stringMatching(/^\d{12}$/)]);
    expect(JSON.parse(one(resources(), T.provider).inputs.allowedAccountIds)).toEqual(allowed);
  });

  it("tags every AWS resource with the prod stack through its provider", () => {
    const provider = one(resources(), T.provider);
    expect(JSON.parse(provider.inputs.defaultTags).tags).toEqual({ "ai-gateway:project": "ai-gateway", "ai-gateway:stack": "prod" });
    for (const r of resources().filter((x) => x.type.startsWith("aws:"))) expect(r.provider?.startsWith(`${provider.urn}::`), r.name).toBe(true);
  });
});

describe("prod stack: alarms", () => {
  it("mails the alarm address when the worker fails, is throttled, drops requests or dead letters pile up", () => {
    const topic = one(resources(), "aws:sns/topic:Topic");
    expect(one(resources(), "aws:sns/topicSubscription:TopicSubscription").inputs).toMatchObject({
      topic: topic.state.arn,
      protocol: "email",
      endpoint: prodFile.config["ai-gateway:observability"]!.alarmEmail,
    });
    const alarms = ofType(resources(), "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs);
    const worker = one(resources(), T.fn, "worker-chat-function").state.name;
    const on = (metricName: string) => alarms.find((a) => a.metricName === metricName && (a.dimensions.FunctionName === worker || a.dimensions.QueueName));
    for (const metric of ["Errors", "Throttles", "AsyncEventsDropped", "Duration", "ApproximateAgeOfOldestMessage"]) {
      expect(on(metric), metric).toMatchObject({ alarmActions: [topic.state.arn], treatMissingData: "notBreaching" });
    }
    expect(on("ApproximateAgeOfOldestMessage")!.dimensions).toEqual({ QueueName: one(resources(), T.queue).state.name });
    expect(on("Duration")).toMatchObject({ extendedStatistic: "p99", threshold: 300 * 1000 * 0.8 });
  });
});

describe("prod stack: WAF", () => {
  it("puts a regional web ACL with a per-IP rate limit in front of the Events API", () => {
    const acl = one(resources(), T.webAcl);
    expect(acl.inputs).toMatchObject({ scope: "REGIONAL", defaultAction: { allow: {} } });
    const rate = acl.inputs.rules.find((r: { statement: { rateBasedStatement?: unknown } }) => r.statement.rateBasedStatement);
    expect(rate).toMatchObject({ action: { block: {} }, statement: { rateBasedStatement: { limit: 1000, aggregateKeyType: "IP" } } });
    expect(one(resources(), T.webAclAssociation).inputs).toEqual({
      resourceArn: one(resources(), T.api).state.apiArn,
      webAclArn: acl.state.arn,
    });
  });
});

describe("prod stack: federation", () => {
  it("creates the Google identity provider with its client secret as a Pulumi secret", () => {
    const idp = one(resources(), T.idp, "idp-google");
    expect(idp.inputs.providerType).toBe("Google");
    // Pulumi marks the whole map secret when any value in it is: it reaches the engine encrypted.
    const details = idp.inputs.providerDetails;
    expect(details[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(details.value).toMatchObject({ client_id: "google-client-id", client_secret: GOOGLE_SECRET });
  });

  it("lets the app client use the provider through the hosted UI's code flow", () => {
    const client = one(resources(), T.client).inputs;
    expect(client.supportedIdentityProviders).toEqual(["COGNITO", "Google"]);
    expect(client).toMatchObject({ allowedOauthFlows: ["code"], allowedOauthFlowsUserPoolClient: true, callbackUrls: ["https://chat.example.com/", expect.stringMatching(/^https:\/\/d[a-z0-9]+\.cloudfront\.net\/$/)] });
    expect(one(resources(), "aws:cognito/userPoolDomain:UserPoolDomain").inputs.domain).toBe("ai-gateway-prod-test");
  });

  it("never puts the provider secret into a function's code archive", async () => {
    for (const fn of ofType(resources(), T.fn)) {
      const config = await archiveFile(fn.inputs.code, BUNDLED_CONFIG_FILE);
      expect(config).not.toContain(GOOGLE_SECRET);
      expect(JSON.parse(config).identity.providers).toEqual({});
    }
  });
});
