import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { BUNDLED_CONFIG_FILE as FUNCTIONS_CONFIG_FILE } from "../../functions/lib/config/load.js";
import { policies } from "../../policies/policies.js";
import { BUNDLED_CONFIG_FILE } from "../../policies/support/bundled-config.js";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema.js";
import { packConfig, ROOT } from "./stack-checks.js";

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

/** The subset of JSON Schema the pack's config schemas use; the Pulumi CLI checks the rest. */
function schemaProblems(value: unknown, schema: PolicyConfigJSONSchema, path: string): string[] {
  const typeOk: Record<string, (v: unknown) => boolean> = {
    integer: (v) => Number.isInteger(v),
    number: (v) => typeof v === "number",
    boolean: (v) => typeof v === "boolean",
    string: (v) => typeof v === "string",
    array: (v) => Array.isArray(v),
    object: (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  };
  if (typeof schema.type === "string" && !typeOk[schema.type]!(value)) return [`${path}: expected ${schema.type}`];
  if (schema.enum && !schema.enum.includes(value as never)) return [`${path}: not one of ${schema.enum.join(", ")}`];
  if (typeof value === "number" && ((schema.minimum !== undefined && value < schema.minimum) || (schema.maximum !== undefined && value > schema.maximum))) {
    return [`${path}: out of range`];
  }
  if (Array.isArray(value) && typeof schema.items === "object" && !Array.isArray(schema.items)) {
    return value.flatMap((v, i) => schemaProblems(v, schema.items as PolicyConfigJSONSchema, `${path}[${i}]`));
  }
  return [];
}

function stackModelIds(stack: string): string[] {
  const file = parseYaml(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> };
  return (file.config["ai-gateway:models"] as { id: string }[]).map((m) => m.id);
}

describe.each(["dev", "prod"])("policies/config.%s.json", (stack) => {
  const config = packConfig(stack);

  it("configures only policies of the pack, with settings their schemas declare", () => {
    const problems = Object.entries(config).flatMap(([name, entry]) => {
      const policy = policies.find((p) => p.name === name);
      if (!policy) return [`${name}: no such policy`];
      if (typeof entry === "string") return LEVELS.includes(entry) ? [] : [`${name}: bad enforcement level`];
      return Object.entries(entry).flatMap(([key, value]) => {
        if (key === "enforcementLevel") return LEVELS.includes(value as string) ? [] : [`${name}.${key}: bad level`];
        const schema = policy.configSchema?.properties[key];
        return schema ? schemaProblems(value, schema, `${name}.${key}`) : [`${name}.${key}: not in the schema`];
      });
    });
    expect(problems).toEqual([]);
  });

  it("supplies every setting a policy requires", () => {
    const missing = policies.flatMap((p) => (p.configSchema?.required ?? []).filter((key) => (config[p.name] as Record<string, unknown> | undefined)?.[key] === undefined).map((key) => `${p.name}.${key}`));
    expect(missing).toEqual([]);
  });

  it(`approves exactly the models Pulumi.${stack}.yaml allowlists, in both allowlist policies`, () => {
    const expected = [...stackModelIds(stack)].sort();
    for (const name of ["iam-bedrock-invoke-allowlist", "tier-models-within-allowlist"]) {
      expect([...((config[name] as { allowedModelIds: string[] }).allowedModelIds)].sort()).toEqual(expected);
    }
  });

  it(`expects the "${stack}" stack tag`, () => {
    expect((config["required-tags"] as { expectedValues: Record<string, string> }).expectedValues["ai-gateway:stack"]).toBe(stack);
  });
});

describe("stack differences in the policy config", () => {
  it("requires PITR and MFA in prod but not in dev", () => {
    const dev = packConfig("dev") as Record<string, Record<string, unknown>>;
    const prod = packConfig("prod") as Record<string, Record<string, unknown>>;
    expect(prod["dynamodb-point-in-time-recovery"]!.required).toBe(true);
    expect(dev["dynamodb-point-in-time-recovery"]!.required).toBe(false);
    expect(prod["cognito-mfa"]!.minimum).toBe("ON");
    expect(dev["cognito-mfa"]!.minimum).not.toBe("ON");
  });

  it("reads the stack config from the same file name the functions load", () => {
    expect(BUNDLED_CONFIG_FILE).toBe(FUNCTIONS_CONFIG_FILE);
  });
});
