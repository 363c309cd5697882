import { describe, expect, it } from "vitest";
import { blockingOutcomes, evaluatePolicies, policyConfig } from "../../policies/evaluate.js";
import { policies } from "../../policies/policies.js";
import { compliantStack, PACK_CONFIG, withInputs } from "./fixtures.js";

describe("running the pack outside the engine", () => {
  it("finds no violation in a stack configured the compliant way", async () => {
    const outcomes = await evaluatePolicies(compliantStack(), PACK_CONFIG);
    expect(outcomes.filter((o) => o.violations.length)).toEqual([]);
    expect(outcomes.map((o) => o.policy)).toEqual(policies.map((p) => p.name));
  });

  it("applies a policy's schema defaults under the stack's values", () => {
    const policy = policies.find((p) => p.name === "lambda-bounded-timeout-memory")!;
    expect(policyConfig(policy, {})).toEqual({ maxTimeoutSeconds: 900, maxMemoryMb: 1024 });
    expect(policyConfig(policy, { "lambda-bounded-timeout-memory": { enforcementLevel: "advisory", maxTimeoutSeconds: 60 } })).toEqual({ maxTimeoutSeconds: 60, maxMemoryMb: 1024 });
  });

  it("fails loudly when a required setting is missing from the config", () => {
    const policy = policies.find((p) => p.name === "iam-bedrock-invoke-allowlist")!;
    expect(() => policyConfig(policy, {})).toThrow('policy iam-bedrock-invoke-allowlist needs "allowedModelIds" in its config');
  });

  it("blocks only on mandatory violations, and skips disabled policies", async () => {
    const stack = withInputs("worker-function", { architectures: ["x86_64"] });
    const advisory = await evaluatePolicies(stack, { ...PACK_CONFIG, "lambda-arm64": "advisory" });
    expect(advisory.find((o) => o.policy === "lambda-arm64")?.violations).toHaveLength(1);
    expect(blockingOutcomes(advisory)).toEqual([]);
    const disabled = await evaluatePolicies(stack, { ...PACK_CONFIG, "lambda-arm64": { enforcementLevel: "disabled" } });
    expect(disabled.find((o) => o.policy === "lambda-arm64")?.violations).toEqual([]);
    const mandatory = await evaluatePolicies(stack, PACK_CONFIG);
    expect(blockingOutcomes(mandatory).map((o) => o.policy)).toEqual(["lambda-arm64"]);
  });

  it("hands policies secrets as plain values, as the engine does", async () => {
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "nodejs18.x" };
    const outcomes = await evaluatePolicies(withInputs("worker-function", { runtime: secret }), PACK_CONFIG);
    expect(outcomes.find((o) => o.policy === "lambda-approved-runtime")?.violations).toEqual([expect.objectContaining({ message: expect.stringContaining('runtime is "nodejs18.x"') })]);
  });
});
