import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { BUNDLED_CONFIG_FILE as FUNCTIONS_CONFIG_FILE } from "../../functions/lib/config/load.js";
import { policies } from "../../policies/policies.js";
import { BUNDLED_CONFIG_FILE } from "../../policies/support/bundled-config.js";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema.js";
import { packConfig, ROOT } from "./stack-checks.js";

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

/**
 * A policy's config as the Pulumi CLI validates it before a run: JSON Schema over the policy's
 * `configSchema` plus its enforcement level, with no other keys.
 */
const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map(
  policies.map((p) => [
    p.name,
    ajv.compile({
      type: "object",
      properties: { enforcementLevel: { enum: LEVELS }, ...(p.configSchema?.properties ?? {}) },
      required: p.configSchema?.required ?? [],
      additionalProperties: false,
    }),
  ]),
);

function schemaProblems(name: string, entry: unknown): string[] {
  const validate = validators.get(name);
  if (!validate) return [`${name}: no such policy`];
  if (typeof entry === "string") return LEVELS.includes(entry) ? [] : [`${name}: bad enforcement level`];
  return validate(entry) ? [] : (validate.errors ?? []).map((e) => `${name}${e.instancePath}: ${e.message}`);
}

/** A value the schema must refuse, one per way a schema says what it takes. */
function wrongValues(schema: PolicyConfigJSONSchema): unknown[] {
  const otherType: Record<string, unknown> = { string: 42, integer: 1.5, number: "1", boolean: "yes", array: "x", object: "x" };
  const wrong: unknown[] = [];
  if (typeof schema.type === "string") wrong.push(otherType[schema.type]);
  if (schema.enum) wrong.push("not-one-of-them");
  if (schema.minimum !== undefined) wrong.push(schema.minimum - 1);
  if (schema.maximum !== undefined) wrong.push(schema.maximum + 1);
  if (typeof schema.items === "object" && !Array.isArray(schema.items)) wrong.push(...wrongValues(schema.items).map((item) => [item]));
  if (typeof schema.additionalProperties === "object") wrong.push(...wrongValues(schema.additionalProperties).map((value) => ({ key: value })));
  return wrong;
}

describe("the policies' config schemas", () => {
  const settings = policies.flatMap((p) => Object.entries(p.configSchema?.properties ?? {}).map(([key, schema]) => ({ policy: p.name, key, schema })));

  it("describe every setting for the operator who sets it", () => {
    expect(settings.length).toBeGreaterThan(15);
    expect(settings.filter(({ schema }) => !(typeof schema.description === "string" && schema.description.length > 10)).map((s) => `${s.policy}.${s.key}`)).toEqual([]);
  });

  it("refuse a value of another type, outside the enum or the range, as the Pulumi CLI would", () => {
    const accepted = settings.flatMap(({ policy, key, schema }) =>
      wrongValues(schema)
        .filter((value) => schemaProblems(policy, { [key]: value, ...requiredBesides(policy, key) }).length === 0)
        .map((value) => `${policy}.${key} = ${JSON.stringify(value)}`),
    );
    expect(accepted).toEqual([]);
    expect(settings.flatMap(({ schema }) => wrongValues(schema)).length).toBeGreaterThan(settings.length);
  });
});

describe("the policies' list and map settings", () => {
  // Each is a config an operator's typo makes; the CLI must stop it before a run.
  const typos: [policy: string, key: string, value: unknown][] = [
    ["required-tags", "requiredTags", ["ai-gateway:project", 7]],
    ["required-tags", "expectedValues", { "ai-gateway:stack": 7 }],
    ["iam-no-managed-policy-attachments", "allowedPolicyArns", [{ arn: "x" }]],
    ["iam-bedrock-invoke-allowlist", "allowedModelIds", [42]],
    ["tier-models-within-allowlist", "allowedModelIds", [42]],
    ["lambda-approved-runtime", "approvedRuntimes", [22]],
    ["dynamodb-ttl", "tablesWithoutExpiry", [true]],
    ["appsync-logging-enabled", "allowedLogLevels", ["VERBOSE"]],
  ];

  it.each(typos)("%s refuses %s holding a value of the wrong kind", (policy, key, value) => {
    expect(schemaProblems(policy, { ...requiredBesides(policy, key), [key]: value })).not.toEqual([]);
  });

  it("accepts every level the enumerated settings document", () => {
    expect(["OFF", "OPTIONAL", "ON"].flatMap((minimum) => schemaProblems("cognito-mfa", { minimum }))).toEqual([]);
    expect(schemaProblems("appsync-logging-enabled", { allowedLogLevels: ["ERROR", "INFO", "DEBUG", "ALL"] })).toEqual([]);
  });
});

/** The dev config's values for a policy's other required settings, so only `key` is wrong. */
function requiredBesides(policy: string, key: string): Record<string, unknown> {
  const entry = packConfig("dev")[policy];
  const values = typeof entry === "object" ? entry : {};
  return Object.fromEntries(Object.entries(values).filter(([k]) => k !== key && k !== "enforcementLevel"));
}

function stackModelIds(stack: string): string[] {
  const file = parseYaml(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> };
  return (file.config["ai-gateway:models"] as { id: string }[]).map((m) => m.id);
}

describe.each(["dev", "prod"])("policies/config.%s.json", (stack) => {
  const config = packConfig(stack);

  it("configures only policies of the pack, with settings their schemas declare", () => {
    expect(Object.entries(config).flatMap(([name, entry]) => schemaProblems(name, entry))).toEqual([]);
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
