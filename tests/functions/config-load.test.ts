import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUNDLED_CONFIG_FILE, loadGatewayConfig } from "../../functions/lib/config/load.js";
import { DEFAULT_METRICS_NAMESPACE, loadMetricsNamespace } from "../../functions/lib/config/metrics-namespace.js";
import { devLikeConfig } from "../support/config-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "config-load-"));
const saved = process.env.GATEWAY_CONFIG_PATH;

function configFile(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

afterEach(() => {
  if (saved === undefined) delete process.env.GATEWAY_CONFIG_PATH;
  else process.env.GATEWAY_CONFIG_PATH = saved;
});

describe("loading the stack config inside a function", () => {
  it("reads gateway-config.json beside the code when GATEWAY_CONFIG_PATH is unset", () => {
    delete process.env.GATEWAY_CONFIG_PATH;
    expect(BUNDLED_CONFIG_FILE).toBe("gateway-config.json");
    // No bundle here, so the file beside the module is missing: the error names where it looked.
    expect(() => loadGatewayConfig()).toThrow(join("functions", "lib", "config", "gateway-config.json"));
  });

  it("reads the file GATEWAY_CONFIG_PATH names and validates it with the schema's defaults", () => {
    process.env.GATEWAY_CONFIG_PATH = configFile("env.json", devLikeConfig());
    expect(loadGatewayConfig().history).toEqual({ maxTurns: 20, ttlDays: 30 });
  });

  it("refuses a config file the schema refuses, naming the key path", () => {
    const file = configFile("bad.json", { ...devLikeConfig(), maxInputChars: -1 });
    expect(() => loadGatewayConfig(file)).toThrow("maxInputChars");
  });
});

describe("the metrics namespace the subscribe authorizer reads without the schema", () => {
  it("is the configured one, or AiGateway when the config names none", () => {
    expect(loadMetricsNamespace(configFile("ns.json", { observability: { metricsNamespace: "Team/Gateway_1.x#:-" } }))).toBe("Team/Gateway_1.x#:-");
    expect(loadMetricsNamespace(configFile("none.json", { observability: {} }))).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(loadMetricsNamespace(configFile("null.json", null))).toBe("AiGateway");
  });

  it("refuses a namespace CloudWatch would refuse, naming the key", () => {
    for (const bad of ["", "has space", "x".repeat(256), 42, "ok\nno"]) {
      expect(() => loadMetricsNamespace(configFile("bad-ns.json", { observability: { metricsNamespace: bad } }))).toThrow(
        "ai-gateway:observability.metricsNamespace: must match",
      );
    }
    expect(loadMetricsNamespace(configFile("max.json", { observability: { metricsNamespace: "x".repeat(255) } }))).toHaveLength(255);
  });
});
