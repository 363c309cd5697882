/**
 * Bedrock Guardrails: where a stack requires one (prod), the stack has a guardrail with
 * content filters including the prompt-attack filter and a blocked message, a published
 * version of it, and a chat worker that calls models through that version (never DRAFT).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { chatWorkers } from "./alarms";
import { referencing, type StackResource } from "../support/stack-graph";
import { asArray, isRecord, withRemedy } from "../support/values";

const GUARDRAIL = "aws:bedrock/guardrail:Guardrail";
const GUARDRAIL_VERSION = "aws:bedrock/guardrailVersion:GuardrailVersion";

/** Environment variable names the worker reads (functions/lib/env.ts). */
const GUARDRAIL_ID_VAR = "GUARDRAIL_ID";
const GUARDRAIL_VERSION_VAR = "GUARDRAIL_VERSION";

export interface GuardrailPolicyConfig {
  required: boolean;
}

function filterTypes(guardrail: StackResource): string[] {
  const content = isRecord(guardrail.props.contentPolicyConfig) ? guardrail.props.contentPolicyConfig : {};
  return asArray(content.filtersConfigs as unknown)
    .filter(isRecord)
    .map((f) => String(f.type));
}

export const bedrockGuardrail: StackValidationPolicy = {
  name: "bedrock-guardrail",
  description: "Where required, model calls go through a published Bedrock Guardrail with content and prompt-attack filters.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set ai-gateway:guardrail.enabled to true (components/guardrail.ts creates the guardrail, its version and the worker's settings).",
  configSchema: {
    properties: { required: { type: "boolean", default: false, description: "Whether this stack must put a guardrail on every model call." } },
  },
  validateStack: (args, reportViolation) => {
    const guardrails = args.resources.filter((r) => r.type === GUARDRAIL);
    for (const guardrail of guardrails) {
      const types = filterTypes(guardrail);
      if (types.length === 0) reportViolation(withRemedy(`guardrail ${guardrail.name} has no content filters`, "configure contentPolicyConfig.filtersConfigs"), guardrail.urn);
      if (!guardrail.props.blockedInputMessaging || !guardrail.props.blockedOutputsMessaging) {
        reportViolation(withRemedy(`guardrail ${guardrail.name} has no blocked message`, "set ai-gateway:guardrail.blockedMessage"), guardrail.urn);
      }
      const versions = referencing(args.resources, GUARDRAIL_VERSION, "guardrailArn", guardrail);
      if (versions.length === 0) {
        reportViolation(withRemedy(`guardrail ${guardrail.name} has no published version; DRAFT changes under a running stack`, "create an aws.bedrock.GuardrailVersion"), guardrail.urn);
      }
    }
    for (const worker of chatWorkers(args.resources)) {
      const variables = isRecord(worker.props.environment) && isRecord(worker.props.environment.variables) ? worker.props.environment.variables : {};
      if (variables[GUARDRAIL_VERSION_VAR] === "DRAFT") {
        reportViolation(withRemedy(`chat worker ${worker.name} calls models through the guardrail's DRAFT`, "pass a published version"), worker.urn);
      }
    }
    if (!args.getConfig<GuardrailPolicyConfig>().required) return;
    if (guardrails.length === 0) {
      reportViolation(withRemedy("this stack requires a Bedrock Guardrail and has none", "set ai-gateway:guardrail.enabled to true"));
      return;
    }
    if (!guardrails.some((g) => filterTypes(g).includes("PROMPT_ATTACK"))) {
      reportViolation(withRemedy("no guardrail filters prompt attacks", "set ai-gateway:guardrail.promptAttackFilter to true"));
    }
    for (const worker of chatWorkers(args.resources)) {
      const variables = isRecord(worker.props.environment) && isRecord(worker.props.environment.variables) ? worker.props.environment.variables : {};
      if (!(GUARDRAIL_ID_VAR in variables) || !(GUARDRAIL_VERSION_VAR in variables)) {
        reportViolation(withRemedy(`chat worker ${worker.name} does not name the guardrail in its model calls`, "pass the guardrail to the ChatWorker component"), worker.urn);
      }
    }
  },
};

export const guardrailPolicies = [bedrockGuardrail];
