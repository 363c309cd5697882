import { describe, expect, it } from "vitest";
import { violations, withInputs } from "./fixtures.js";

describe("cloudwatch-log-retention", () => {
  it("refuses a log group that never expires", async () => {
    expect(await violations("cloudwatch-log-retention", withInputs("worker-logs", { retentionInDays: undefined }))).toEqual([
      expect.stringContaining("log group /aws/lambda/worker never expires its logs. To fix: set retentionInDays between 7 and 365"),
    ]);
  });

  it("refuses a retention outside the stack's bounds", async () => {
    expect(await violations("cloudwatch-log-retention", withInputs("worker-logs", { retentionInDays: 3653 }))).toEqual([expect.stringContaining("keeps logs 3653 days, outside 7..365")]);
    expect(await violations("cloudwatch-log-retention", withInputs("worker-logs", { retentionInDays: 1 }))).toEqual([expect.stringContaining("keeps logs 1 days, outside 7..365")]);
  });
});

describe("cognito-password-policy", () => {
  it("refuses passwords shorter than the stack requires", async () => {
    const weak = { minimumLength: 8, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true, temporaryPasswordValidityDays: 3 };
    expect(await violations("cognito-password-policy", withInputs("users", { passwordPolicy: weak }))).toEqual([expect.stringContaining("passwords may be 8 characters; at least 12 required")]);
  });

  it("judges a pool without a password policy by Cognito's defaults", async () => {
    expect(await violations("cognito-password-policy", withInputs("users", { passwordPolicy: undefined }))).toEqual([expect.stringContaining("passwords may be 8 characters")]);
  });

  it("refuses missing character classes and long-lived temporary passwords", async () => {
    const lax = { minimumLength: 14, requireLowercase: true, requireUppercase: false, requireNumbers: true, requireSymbols: false, temporaryPasswordValidityDays: 30 };
    expect(await violations("cognito-password-policy", withInputs("users", { passwordPolicy: lax }))).toEqual([
      expect.stringContaining("passwordPolicy does not set requireUppercase, requireSymbols"),
      expect.stringContaining("temporary passwords stay valid 30 days, above 7"),
    ]);
  });
});

describe("cognito-mfa", () => {
  it("refuses optional MFA where the stack requires it", async () => {
    expect(await violations("cognito-mfa", withInputs("users", { mfaConfiguration: "OPTIONAL" }))).toEqual([
      expect.stringContaining('mfaConfiguration is OPTIONAL; this stack requires at least ON. To fix: set ai-gateway:identity.mfa to "ON"'),
    ]);
  });

  it("accepts optional MFA where the stack allows it", async () => {
    expect(await violations("cognito-mfa", withInputs("users", { mfaConfiguration: "OPTIONAL" }), { "cognito-mfa": { minimum: "OPTIONAL" } })).toEqual([]);
  });

  it("requires at least optional MFA when the stack's policy config names no minimum", async () => {
    expect(await violations("cognito-mfa", withInputs("users", { mfaConfiguration: "OFF" }), { "cognito-mfa": {} })).toEqual([
      expect.stringContaining("mfaConfiguration is OFF; this stack requires at least OPTIONAL"),
    ]);
  });

  it("refuses MFA switched on with no second factor configured", async () => {
    expect(await violations("cognito-mfa", withInputs("users", { softwareTokenMfaConfiguration: undefined }))).toEqual([expect.stringContaining("mfaConfiguration is ON but no second factor is configured")]);
  });
});

describe("identity and log policies, case by case", () => {
  it("names a log group by its resource name when it has no explicit name", async () => {
    expect(await violations("cloudwatch-log-retention", withInputs("worker-logs", { name: undefined, retentionInDays: 3653 }))).toEqual([
      "log group worker-logs keeps logs 3653 days, outside 7..365. To fix: change ai-gateway:observability.logRetentionDays",
    ]);
  });

  it("leaves character classes alone when the stack does not require them", async () => {
    const lax = { minimumLength: 14, requireLowercase: false, requireUppercase: false, requireNumbers: false, requireSymbols: false, temporaryPasswordValidityDays: 3 };
    const config = { "cognito-password-policy": { minimumLength: 12, requireCharacterClasses: false } };
    expect(await violations("cognito-password-policy", withInputs("users", { passwordPolicy: lax }), config)).toEqual([]);
  });

  it("counts a software token only when enabled, and SMS or e-mail as second factors", async () => {
    expect(await violations("cognito-mfa", withInputs("users", { softwareTokenMfaConfiguration: { enabled: false } }))).toHaveLength(1);
    expect(await violations("cognito-mfa", withInputs("users", { softwareTokenMfaConfiguration: undefined, smsConfiguration: { snsCallerArn: "arn" } }))).toEqual([]);
    expect(await violations("cognito-mfa", withInputs("users", { softwareTokenMfaConfiguration: undefined, emailMfaConfiguration: { message: "{####}" } }))).toEqual([]);
  });

  it("takes an unset mfaConfiguration as OFF", async () => {
    expect(await violations("cognito-mfa", withInputs("users", { mfaConfiguration: undefined }))).toEqual([
      'mfaConfiguration is OFF; this stack requires at least ON. To fix: set ai-gateway:identity.mfa to "ON"',
    ]);
  });
});
