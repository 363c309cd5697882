/**
 * A Bedrock Guardrail and a published version of it, from the stack's `guardrail.*` config:
 * content filters (hate, insults, sexual, violence, misconduct), the prompt-attack filter,
 * PII masking in answers, denied topics and the message users see when it intervenes. The
 * worker calls models through the published version (never DRAFT, which changes under a
 * running stack) with sync stream processing, the only mode that can mask PII.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { GatewayConfig } from "../functions/lib/config/schema.js";

/** The content filter categories the strength applies to. */
export const CONTENT_FILTERS = ["HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"] as const;

/** PII masked in answers (ANONYMIZE) when `maskPii`; the entity types users most often leak. */
export const MASKED_PII = [
  "EMAIL",
  "PHONE",
  "CREDIT_DEBIT_CARD_NUMBER",
  "US_SOCIAL_SECURITY_NUMBER",
  "AWS_ACCESS_KEY",
  "AWS_SECRET_KEY",
  "PASSWORD",
] as const;

export interface GuardrailArgs {
  /** The stack's `guardrail` settings (`enabled` is the caller's business: this component is the guardrail). */
  settings: GatewayConfig["guardrail"];
  /** Shown in the console. @default "AI gateway guardrail" */
  description?: string;
}

export class Guardrail extends pulumi.ComponentResource {
  readonly guardrail: aws.bedrock.Guardrail;
  readonly version: aws.bedrock.GuardrailVersion;
  /** What the worker passes as `guardrailIdentifier`. */
  readonly guardrailId: pulumi.Output<string>;
  readonly guardrailArn: pulumi.Output<string>;
  /** The published version number. */
  readonly versionNumber: pulumi.Output<string>;

  constructor(name: string, args: GuardrailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Guardrail", name, {}, opts);
    const { settings, description } = { description: "AI gateway guardrail", ...args };
    const policies = guardrailPolicies(settings);

    this.guardrail = new aws.bedrock.Guardrail(
      `${name}-guardrail`,
      { description, blockedInputMessaging: settings.blockedMessage, blockedOutputsMessaging: settings.blockedMessage, ...policies },
      { parent: this },
    );

    // A version is a snapshot: a changed policy needs a new one, so the version is replaced
    // (and the worker moved to it) whenever the settings change.
    this.version = new aws.bedrock.GuardrailVersion(
      `${name}-version`,
      { guardrailArn: this.guardrail.guardrailArn, description: `settings ${settingsDigest(settings)}` },
      { parent: this },
    );

    this.guardrailId = this.guardrail.guardrailId;
    this.guardrailArn = this.guardrail.guardrailArn;
    this.versionNumber = this.version.version;
    this.registerOutputs({ guardrailId: this.guardrailId, guardrailArn: this.guardrailArn, version: this.versionNumber });
  }
}

/** The guardrail's policies from the stack's settings; a policy with nothing in it is left out. */
export function guardrailPolicies(settings: GatewayConfig["guardrail"]): Pick<
  aws.bedrock.GuardrailArgs,
  "contentPolicyConfig" | "sensitiveInformationPolicyConfig" | "topicPolicyConfig"
> {
  const strength = settings.contentFilterStrength;
  return {
    contentPolicyConfig: {
      filtersConfigs: [
        ...CONTENT_FILTERS.map((type) => ({ type, inputStrength: strength, outputStrength: strength })),
        // Prompt attacks are judged on input only; Bedrock requires NONE on output.
        ...(settings.promptAttackFilter ? [{ type: "PROMPT_ATTACK", inputStrength: "HIGH", outputStrength: "NONE" }] : []),
      ],
    },
    ...(settings.maskPii
      ? { sensitiveInformationPolicyConfig: { piiEntitiesConfigs: MASKED_PII.map((type) => ({ type, action: "ANONYMIZE" })) } }
      : {}),
    ...(settings.deniedTopics.length > 0
      ? { topicPolicyConfig: { topicsConfigs: settings.deniedTopics.map((t) => ({ name: t.name, definition: t.definition, type: "DENY" })) } }
      : {}),
  };
}

function settingsDigest(settings: GatewayConfig["guardrail"]): string {
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 16);
}
