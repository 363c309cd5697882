/**
 * The pieces that keep the functions' cold start small: the Lambda credential chain and the
 * authorizer's one-key config reader. They must behave as the full versions do where they run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { DEFAULT_METRICS_NAMESPACE, loadMetricsNamespace } from "../../functions/lib/config/metrics-namespace.js";
import { credentialsTreatedAsExpired, defaultProvider } from "../../functions/lib/lambda-credentials.js";
import { applyEnvironment } from "../../local/lambda.js";
import { devLikeConfig } from "../support/config-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "lean-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe("the Lambda credential chain", () => {
  let restore = () => {};
  afterEach(() => restore());

  it("answers with the role credentials Lambda puts in the environment, session token included", async () => {
    restore = applyEnvironment({ AWS_ACCESS_KEY_ID: "ASIAROLE", AWS_SECRET_ACCESS_KEY: "role-secret", AWS_SESSION_TOKEN: "role-session", AWS_PROFILE: undefined });
    expect(await defaultProvider()()).toMatchObject({ accessKeyId: "ASIAROLE", secretAccessKey: "role-secret", sessionToken: "role-session" });
  });

  it("fails with the SDK's credentials error when the environment holds no credentials", async () => {
    restore = applyEnvironment({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    await expect(defaultProvider()()).rejects.toMatchObject({ name: "CredentialsProviderError" });
  });

  it("treats credentials as expired five minutes before they expire, as the SDK's chain does", () => {
    expect(credentialsTreatedAsExpired({ accessKeyId: "a", secretAccessKey: "b", expiration: new Date(Date.now() + 60_000) })).toBe(true);
    expect(credentialsTreatedAsExpired({ accessKeyId: "a", secretAccessKey: "b", expiration: new Date(Date.now() + 600_000) })).toBe(false);
    expect(credentialsTreatedAsExpired({ accessKeyId: "a", secretAccessKey: "b" })).toBe(false);
  });
});

describe("the authorizer's metrics namespace", () => {
  it("is the one the full schema reads from the same file", () => {
    const raw = { ...devLikeConfig(), observability: { metricsNamespace: "AiGateway/prod" } };
    expect(loadMetricsNamespace(configFile("set.json", raw))).toBe(parseGatewayConfig(raw).observability.metricsNamespace);
  });

  it("defaults as the schema does when the key is absent", () => {
    const raw = devLikeConfig();
    expect(loadMetricsNamespace(configFile("default.json", raw))).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(parseGatewayConfig(raw).observability.metricsNamespace).toBe(DEFAULT_METRICS_NAMESPACE);
  });

  it.each([["a space", "Ai Gateway"], ["a number", 7], ["an empty string", ""]])("refuses %s, naming the key", (_what, value) => {
    const path = configFile("bad.json", { ...devLikeConfig(), observability: { metricsNamespace: value } });
    expect(() => loadMetricsNamespace(path)).toThrow("ai-gateway:observability.metricsNamespace");
    expect(() => parseGatewayConfig({ ...devLikeConfig(), observability: { metricsNamespace: value } })).toThrow("ai-gateway:observability.metricsNamespace");
  });
});
