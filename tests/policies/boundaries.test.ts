/**
 * Each threshold policy at its boundary: the configured bound itself passes, one step past
 * it fails. (PACK_CONFIG in fixtures.ts sets the bounds used here.)
 */
import { describe, expect, it } from "vitest";
import { codeArchive, GATEWAY_CONFIG, violations, withInputs } from "./fixtures.js";

describe("cloudwatch-log-retention bounds (7..365 days)", () => {
  it.each([7, 365])("accepts exactly %i days", async (days) => {
    expect(await violations("cloudwatch-log-retention", withInputs("worker-logs", { retentionInDays: days }))).toEqual([]);
  });

  it.each([6, 366])("refuses %i days", async (days) => {
    expect(await violations("cloudwatch-log-retention", withInputs("worker-logs", { retentionInDays: days }))).toEqual([expect.stringContaining(`keeps logs ${days} days, outside 7..365`)]);
  });
});

describe("lambda-bounded-timeout-memory bounds (300 s, 1024 MB)", () => {
  it("accepts a function exactly at both bounds", async () => {
    expect(await violations("lambda-bounded-timeout-memory", withInputs("worker-function", { timeout: 300, memorySize: 1024 }))).toEqual([]);
  });

  it("refuses one second and one megabyte more", async () => {
    expect(await violations("lambda-bounded-timeout-memory", withInputs("worker-function", { timeout: 301, memorySize: 1025 }))).toEqual([
      expect.stringContaining("timeout is 301 s, above the bound of 300 s"),
      expect.stringContaining("memorySize is 1025 MB, above the bound of 1024 MB"),
    ]);
  });
});

describe("lambda-async-failure-handling bounds (event age 300 s, 0 retries)", () => {
  it("accepts an event age of exactly 300 s", async () => {
    expect(await violations("lambda-async-failure-handling", withInputs("worker-async", { maximumEventAgeInSeconds: 300 }))).toEqual([]);
  });

  it("refuses 301 s and a single retry", async () => {
    expect(await violations("lambda-async-failure-handling", withInputs("worker-async", { maximumEventAgeInSeconds: 301, maximumRetryAttempts: 1 }))).toEqual([
      expect.stringContaining("maximumEventAgeInSeconds is 301, above 300"),
      expect.stringContaining("maximumRetryAttempts is 1, above 0"),
    ]);
  });
});

describe("cognito-password-policy bounds (12 characters, temporary passwords 7 days)", () => {
  const policy = (overrides: Record<string, unknown>) => ({
    minimumLength: 12,
    requireLowercase: true,
    requireUppercase: true,
    requireNumbers: true,
    requireSymbols: true,
    temporaryPasswordValidityDays: 7,
    ...overrides,
  });

  it("accepts exactly 12 characters and 7 days", async () => {
    expect(await violations("cognito-password-policy", withInputs("users", { passwordPolicy: policy({}) }))).toEqual([]);
  });

  it("refuses 11 characters and 8 days", async () => {
    expect(await violations("cognito-password-policy", withInputs("users", { passwordPolicy: policy({ minimumLength: 11, temporaryPasswordValidityDays: 8 }) }))).toEqual([
      expect.stringContaining("passwords may be 11 characters; at least 12 required"),
      expect.stringContaining("temporary passwords stay valid 8 days, above 7"),
    ]);
  });
});

describe("cognito-mfa ordering", () => {
  it("accepts a stronger mode than required and refuses OFF where OPTIONAL is the minimum", async () => {
    const optional = { "cognito-mfa": { minimum: "OPTIONAL" } };
    expect(await violations("cognito-mfa", withInputs("users", { mfaConfiguration: "ON" }), optional)).toEqual([]);
    expect(await violations("cognito-mfa", withInputs("users", { mfaConfiguration: "OFF", softwareTokenMfaConfiguration: undefined }), optional)).toEqual([
      expect.stringContaining("mfaConfiguration is OFF; this stack requires at least OPTIONAL"),
    ]);
  });
});

describe("tier-limits-set bounds", () => {
  const withPro = (pro: Record<string, unknown>) =>
    withInputs("worker-function", { code: codeArchive({ ...GATEWAY_CONFIG, tiers: { ...GATEWAY_CONFIG.tiers, pro: { ...GATEWAY_CONFIG.tiers.pro, ...pro } } }) });

  it("accepts a monthly limit equal to the daily one", async () => {
    const limits = { daily: { inputTokens: 5000, outputTokens: 8000 }, monthly: { inputTokens: 5000, outputTokens: 8000 } };
    expect(await violations("tier-limits-set", withPro({ limits }))).toEqual([]);
  });

  it("refuses a monthly limit one token below the daily one", async () => {
    const limits = { daily: { inputTokens: 5000, outputTokens: 8000 }, monthly: { inputTokens: 5000, outputTokens: 7999 } };
    expect(await violations("tier-limits-set", withPro({ limits }))).toEqual([expect.stringContaining('tier "pro" allows more outputTokens per day (8000) than per month (7999)')]);
  });

  it("refuses a zero per-request cap or concurrency cap, and a fractional limit", async () => {
    const limits = { daily: { inputTokens: 5000.5, outputTokens: 8000 }, monthly: GATEWAY_CONFIG.tiers.pro.limits.monthly };
    expect(await violations("tier-limits-set", withPro({ maxOutputTokensPerRequest: 0, maxConcurrentRequests: 0, limits }))).toEqual([
      expect.stringContaining('tier "pro" sets no daily inputTokens limit'),
      expect.stringContaining('tier "pro" sets no maxOutputTokensPerRequest'),
      expect.stringContaining('tier "pro" sets no maxConcurrentRequests'),
    ]);
  });
});
