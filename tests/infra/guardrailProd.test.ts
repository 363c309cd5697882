/**
 * The prod stack (real Pulumi.prod.yaml, mocked engine): a Bedrock Guardrail from the stack's
 * `guardrail.*` settings and a published version, the worker calling models through that
 * version and allowed to apply that guardrail only, and history and cache tables that can be
 * restored.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CONTENT_FILTERS, MASKED_PII } from "../../components/guardrail.js";
import { readStackConfig } from "../../local/config.js";
import { runMockedStack, type MockedStack } from "../../tools/mocked-stack.js";
import { actionsOf, grantedStatements, one, resourcesOf, roleOf, roleStatements, T } from "./stackQueries.js";

const prodConfig = readStackConfig({ stack: "prod" }).config;
const GUARDRAIL = "aws:bedrock/guardrail:Guardrail";
const VERSION = "aws:bedrock/guardrailVersion:GuardrailVersion";

let stack: MockedStack;
beforeAll(async () => {
  stack = await runMockedStack({ stack: "prod" });
});
const resources = () => stack.resources;

describe("prod stack: guardrail", () => {
  it("is on in prod", () => {
    expect(prodConfig.guardrail.enabled).toBe(true);
  });

  it("filters content at the configured strength, blocks prompt attacks, masks PII and denies the configured topics", () => {
    const guardrail = one(resources(), GUARDRAIL);
    const strength = prodConfig.guardrail.contentFilterStrength;
    expect(guardrail.inputs.contentPolicyConfig.filtersConfigs).toEqual([
      ...CONTENT_FILTERS.map((type) => ({ type, inputStrength: strength, outputStrength: strength })),
      { type: "PROMPT_ATTACK", inputStrength: "HIGH", outputStrength: "NONE" },
    ]);
    expect(guardrail.inputs.sensitiveInformationPolicyConfig.piiEntitiesConfigs).toEqual(MASKED_PII.map((type) => ({ type, action: "ANONYMIZE" })));
    expect(guardrail.inputs.topicPolicyConfig.topicsConfigs).toEqual(
      prodConfig.guardrail.deniedTopics.map((t) => ({ name: t.name, definition: t.definition, type: "DENY" })),
    );
    expect(guardrail.inputs).toMatchObject({ blockedInputMessaging: prodConfig.guardrail.blockedMessage, blockedOutputsMessaging: prodConfig.guardrail.blockedMessage });
  });

  it("publishes a version of that guardrail, and the worker calls models through it", () => {
    const guardrail = one(resources(), GUARDRAIL);
    const version = one(resources(), VERSION);
    expect(version.inputs.guardrailArn).toBe(guardrail.state.guardrailArn);
    expect(version.inputs.description).toMatch(/^settings [0-9a-f]{16}$/);
    const variables = one(resources(), T.fn, "worker-chat-function").inputs.environment.variables;
    expect(variables).toMatchObject({ GUARDRAIL_ID: guardrail.state.guardrailId, GUARDRAIL_VERSION: version.state.version });
    expect(variables.GUARDRAIL_VERSION).not.toBe("DRAFT");
  });

  it("lets the worker apply this guardrail and no other; no other role may", () => {
    const guardrail = one(resources(), GUARDRAIL);
    const apply = grantedStatements(resources()).filter(({ statement }) => actionsOf(statement).some((a) => a.includes("Guardrail")));
    expect(apply).toHaveLength(1);
    expect(apply[0]!.policy).toBe("gateway-worker-chat-policy");
    expect(actionsOf(apply[0]!.statement)).toEqual(["bedrock:ApplyGuardrail"]);
    expect(resourcesOf(apply[0]!.statement)).toEqual([guardrail.state.guardrailArn]);
    const worker = one(resources(), T.fn, "worker-chat-function");
    expect(roleStatements(resources(), roleOf(resources(), worker)).some((s) => s.Sid === "ApplyStackGuardrail")).toBe(true);
  });

  it("keeps point-in-time recovery on the conversations and cache tables", () => {
    for (const name of ["-conversations", "-cache"]) {
      expect(one(resources(), T.table, name).inputs).toMatchObject({ pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: true });
    }
  });
});
