/**
 * Shared by the dev and prod stack tests (one stack per test file: a mocked program run is
 * once per process): the real program under mocks, the pack with the stack's policy config.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { TAGGABLE_TYPES } from "../../policies/rules/tags.js";
import { evaluatePolicies, type PackConfig, type PolicyOutcome } from "../../policies/evaluate.js";
import type { MockedResource } from "../../tools/mocked-stack.js";
import { runMockedStack } from "../../tools/mocked-stack.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function packConfig(stack: string): PackConfig {
  return JSON.parse(readFileSync(join(ROOT, "policies", `config.${stack}.json`), "utf8")) as PackConfig;
}

export async function evaluateStack(stack: "dev" | "prod"): Promise<{ resources: MockedResource[]; outcomes: PolicyOutcome[] }> {
  const { resources } = await runMockedStack({ stack });
  return { resources, outcomes: await evaluatePolicies(resources, packConfig(stack)) };
}

/**
 * The resource types of @pulumi/aws whose args accept `tags`, read from the package's type
 * declarations (token from the .js, args from the .d.ts).
 */
export function acceptsTags(type: string): boolean {
  const match = /^aws:([a-z0-9]+)\/([A-Za-z0-9]+):/.exec(type);
  if (!match) return false;
  const [, module, file] = match;
  const base = join(ROOT, "node_modules/@pulumi/aws", module!, file!);
  let declarations: string;
  try {
    declarations = readFileSync(`${base}.d.ts`, "utf8");
  } catch {
    return false;
  }
  const className = file![0]!.toUpperCase() + file!.slice(1);
  const args = new RegExp(`export interface ${className}Args \\{([\\s\\S]*?)\\n\\}`).exec(declarations);
  return !!args && /\n {4}tags\?:/.test(args[1]!);
}

/** The suite each stack's test file runs: every mandatory policy passes, tag coverage holds. */
export function describeStackUnderPolicies(stack: "dev" | "prod"): void {
  describe(`the ${stack} stack under the policy pack`, () => {
    let resources: MockedResource[];
    let outcomes: PolicyOutcome[];
    beforeAll(async () => {
      ({ resources, outcomes } = await evaluateStack(stack));
    });

    it("passes every mandatory policy", () => {
      const failing = outcomes.filter((o) => o.enforcementLevel === "mandatory" && o.violations.length);
      expect(failing).toEqual([]);
      expect(outcomes.filter((o) => o.enforcementLevel === "mandatory").length).toBeGreaterThan(20);
    });

    it("runs the tier policies on the bundled config rather than declaring them not applicable", () => {
      for (const name of ["tier-models-within-allowlist", "tier-limits-set"]) {
        const outcome = outcomes.find((o) => o.policy === name);
        expect(outcome?.violations).toEqual([]);
        expect(outcome?.notApplicable).toBeUndefined();
      }
    });

    it("lists every taggable resource type it creates as taggable", () => {
      const types = [...new Set(resources.map((r) => r.type))];
      expect(types.filter(acceptsTags).filter((t) => !TAGGABLE_TYPES.has(t))).toEqual([]);
      expect(types.filter((t) => TAGGABLE_TYPES.has(t)).length).toBeGreaterThan(5);
    });
  });
}
