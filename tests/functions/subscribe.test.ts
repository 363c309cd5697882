import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import type { AppSyncEventsEvent } from "../../functions/lib/appsync/event.js";
import { authorizeSubscription, SUBSCRIPTION_REFUSED } from "../../functions/lib/subscribe.js";
import { jsonLines, stdoutWhile } from "../support/stdout.js";

const SUB = "7c1d5e2a-1111-4222-8333-444455556666";
const logger = new Logger({ serviceName: "test", logLevel: "CRITICAL" });

/** A subscribe event as AppSync Events hands it to a DIRECT Lambda handler. */
function subscribeEvent(path: string, identity: AppSyncEventsEvent["identity"] = { sub: SUB, groups: null, claims: { client_id: "c" } }): AppSyncEventsEvent {
  return {
    identity,
    info: { channel: { path, segments: path.split("/").filter(Boolean) }, channelNamespace: { name: path.split("/")[1]! }, operation: "SUBSCRIBE" },
    request: { headers: { authorization: "eyJ.secret.token" }, domainName: null },
    events: null,
  };
}

describe("onSubscribe authorization", () => {
  it("allows a user to subscribe to their own outbound channel", () => {
    expect(authorizeSubscription(subscribeEvent(`/Outbound-Messages/${SUB}`), logger)).toBeNull();
  });

  it.each([
    ["another user's channel", "/Outbound-Messages/8d2e6f3b-2222-4333-8444-555566667777"],
    ["a wildcard", "/Outbound-Messages/*"],
    ["a channel with extra segments", `/Outbound-Messages/${SUB}/more`],
    ["the namespace alone", "/Outbound-Messages"],
    ["a case variant of the user's id", `/Outbound-Messages/${SUB.toUpperCase()}`],
    ["the inbound namespace", `/Inbound-Messages/${SUB}`],
  ])("refuses %s", (_what, path) => {
    expect(authorizeSubscription(subscribeEvent(path), logger)).toEqual({ error: SUBSCRIPTION_REFUSED });
  });

  it("refuses an operation other than SUBSCRIBE on the caller's own channel", () => {
    const event = subscribeEvent(`/Outbound-Messages/${SUB}`);
    expect(authorizeSubscription({ ...event, info: { ...event.info, operation: "PUBLISH" } }, logger)).toEqual({ error: SUBSCRIPTION_REFUSED });
  });

  it.each([["*"], ["user-1"], [`${SUB}/x`], [""]])("refuses a caller whose sub %j is not a Cognito sub, even on the channel named after it", (sub) => {
    const identity = { sub, groups: null, claims: { client_id: "c" } };
    expect(authorizeSubscription(subscribeEvent(`/Outbound-Messages/${sub}`, identity), logger)).toEqual({ error: SUBSCRIPTION_REFUSED });
  });

  it("refuses a caller without a Cognito identity", () => {
    expect(authorizeSubscription(subscribeEvent(`/Outbound-Messages/${SUB}`, null), logger)).toEqual({ error: SUBSCRIPTION_REFUSED });
  });

  it("refuses with AppSync's error text for a refused subscription", () => {
    expect(SUBSCRIPTION_REFUSED).toBe("Unauthorized: you may subscribe only to your own channel.");
  });

  it("logs a refusal with the caller and the channel cut at 300 characters", async () => {
    const path = `/Outbound-Messages/${"x".repeat(400)}`;
    const lines = jsonLines(
      await stdoutWhile(async () => void authorizeSubscription(subscribeEvent(path), new Logger({ serviceName: "test", logLevel: "WARN" })), { passThrough: false, stderr: true }),
    );
    expect(lines).toEqual([expect.objectContaining({ level: "WARN", message: "subscription refused", user_id: SUB, channel: path.slice(0, 300), operation: "SUBSCRIBE" })]);
  });

  it("logs a refusal without the token", () => {
    const lines: string[] = [];
    const spyLogger = new Logger({ serviceName: "test", logLevel: "WARN" });
    // Powertools writes through its own console object; capture what it prints.
    (spyLogger as unknown as { console: unknown }).console = { warn: (s: string) => lines.push(s) };
    authorizeSubscription(subscribeEvent("/Outbound-Messages/someone-else"), spyLogger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("subscription refused");
    expect(lines[0]).toContain("/Outbound-Messages/someone-else");
    expect(lines[0]).not.toContain("eyJ.secret.token");
  });
});
