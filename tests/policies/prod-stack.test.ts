import { beforeAll, describe, expect, it } from "vitest";
import { TAGGABLE_TYPES } from "../../policies/rules/tags.js";
import type { PolicyOutcome } from "../../policies/evaluate.js";
import type { MockedResource } from "../../tools/mocked-stack.js";
import { acceptsTags, evaluateStack } from "./stack-checks.js";

describe("the prod stack under the policy pack", () => {
  let resources: MockedResource[];
  let outcomes: PolicyOutcome[];
  beforeAll(async () => {
    ({ resources, outcomes } = await evaluateStack("prod"));
  });

  it("passes every mandatory policy", () => {
    const failing = outcomes.filter((o) => o.enforcementLevel === "mandatory" && o.violations.length);
    expect(failing).toEqual([]);
    expect(outcomes.filter((o) => o.enforcementLevel === "mandatory").length).toBeGreaterThan(20);
  });

  it("lists every taggable resource type it creates as taggable", () => {
    const types = [...new Set(resources.map((r) => r.type))];
    expect(types.filter(acceptsTags).filter((t) => !TAGGABLE_TYPES.has(t))).toEqual([]);
    expect(types.filter((t) => TAGGABLE_TYPES.has(t)).length).toBeGreaterThan(5);
  });
});
