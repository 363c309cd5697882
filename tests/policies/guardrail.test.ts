import { describe, expect, it } from "vitest";
import { changed, compliantStack, PACK_CONFIG, resource } from "./fixtures.js";
import { violations } from "./fixtures.js";
import type { RecordedResource } from "../../policies/evaluate.js";

const GUARDRAIL_ARN = "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr1abc";
const required = { ...PACK_CONFIG, "bedrock-guardrail": { required: true } };

function guardrail(overrides: Record<string, unknown> = {}): RecordedResource {
  return resource(
    "aws:bedrock/guardrail:Guardrail",
    "gateway-guardrail-guardrail",
    {
      blockedInputMessaging: "Sorry.",
      blockedOutputsMessaging: "Sorry.",
      contentPolicyConfig: {
        filtersConfigs: [
          { type: "HATE", inputStrength: "HIGH", outputStrength: "HIGH" },
          { type: "PROMPT_ATTACK", inputStrength: "HIGH", outputStrength: "NONE" },
        ],
      },
      ...overrides,
    },
    { guardrailArn: GUARDRAIL_ARN, guardrailId: "gr1abc" },
  );
}
const version = (guardrailArn = GUARDRAIL_ARN) =>
  resource("aws:bedrock/guardrailVersion:GuardrailVersion", "gateway-guardrail-version", { guardrailArn }, { version: "1" });

/** The compliant stack with the worker naming `versionNumber` of the guardrail. */
function withGuardrail(parts: RecordedResource[], versionNumber = "1"): RecordedResource[] {
  const stack = changed("worker-function", (fn) => ({
    ...fn,
    inputs: { ...fn.inputs, environment: { variables: { ...(fn.inputs.environment?.variables ?? {}), GUARDRAIL_ID: "gr1abc", GUARDRAIL_VERSION: versionNumber } } },
  }));
  return [...stack, ...parts];
}

describe("bedrock-guardrail", () => {
  it("passes a stack whose worker calls models through a published guardrail with content and prompt-attack filters", async () => {
    expect(await violations("bedrock-guardrail", withGuardrail([guardrail(), version()]), required)).toEqual([]);
  });

  it("refuses a stack that requires a guardrail and has none", async () => {
    expect(await violations("bedrock-guardrail", compliantStack(), required)).toEqual([expect.stringContaining("requires a Bedrock Guardrail and has none")]);
  });

  it("accepts no guardrail where the stack does not require one", async () => {
    expect(await violations("bedrock-guardrail", compliantStack(), { ...PACK_CONFIG, "bedrock-guardrail": { required: false } })).toEqual([]);
  });

  it("refuses a guardrail without a published version, and a worker on DRAFT", async () => {
    const found = await violations("bedrock-guardrail", withGuardrail([guardrail()], "DRAFT"), required);
    expect(found).toEqual([expect.stringContaining("has no published version"), expect.stringContaining("through the guardrail's DRAFT")]);
  });

  it("refuses a required guardrail without the prompt-attack filter, and one the worker does not name", async () => {
    const noPromptAttack = guardrail({ contentPolicyConfig: { filtersConfigs: [{ type: "HATE", inputStrength: "HIGH", outputStrength: "HIGH" }] } });
    expect(await violations("bedrock-guardrail", withGuardrail([noPromptAttack, version()]), required)).toEqual([expect.stringContaining("no guardrail filters prompt attacks")]);
    expect(await violations("bedrock-guardrail", [...compliantStack(), guardrail(), version()], required)).toEqual([
      expect.stringContaining("does not name the guardrail in its model calls"),
    ]);
  });

  it("refuses a guardrail with no content filters or no blocked message", async () => {
    const bare = guardrail({ contentPolicyConfig: undefined, blockedOutputsMessaging: undefined });
    const found = await violations("bedrock-guardrail", withGuardrail([bare, version()]), { ...PACK_CONFIG, "bedrock-guardrail": { required: false } });
    expect(found).toEqual([expect.stringContaining("has no content filters"), expect.stringContaining("has no blocked message")]);
  });
});

describe("bedrock-guardrail, case by case", () => {
  it("accepts the prompt-attack filter on any one of several guardrails", async () => {
    const second = { ...guardrail({ contentPolicyConfig: { filtersConfigs: [{ type: "HATE" }] } }), name: "second-guardrail" };
    // Both share the fixture's ARN, so the one version covers both.
    expect(await violations("bedrock-guardrail", withGuardrail([guardrail(), second, version()]), required)).toEqual([]);
  });

  it("skips filter entries that are not objects", async () => {
    const junk = guardrail({ contentPolicyConfig: { filtersConfigs: ["PROMPT_ATTACK"] } });
    expect(await violations("bedrock-guardrail", withGuardrail([junk, version()]), required)).toEqual([
      expect.stringContaining("has no content filters"),
      expect.stringContaining("no guardrail filters prompt attacks"),
    ]);
  });

  it("wants the worker to name both the guardrail and its version", async () => {
    const onlyId = changed("worker-function", (fn) => ({ ...fn, inputs: { ...fn.inputs, environment: { variables: { GUARDRAIL_ID: "gr1abc" } } } }));
    expect(await violations("bedrock-guardrail", [...onlyId, guardrail(), version()], required)).toEqual([
      expect.stringContaining("chat worker worker-function does not name the guardrail in its model calls"),
    ]);
  });
});
