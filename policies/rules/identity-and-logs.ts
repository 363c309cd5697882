/**
 * Cognito sign-in strength and CloudWatch log retention: both vary by stack, so both read
 * their thresholds from the policy config.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isRecord, withRemedy } from "../support/values";

export interface RetentionConfig {
  minRetentionDays: number;
  maxRetentionDays: number;
}

export const cloudwatchLogRetention: ResourceValidationPolicy = {
  name: "cloudwatch-log-retention",
  description: "CloudWatch log groups set a retention within the stack's bounds (prompts may appear in logs; they must not live forever).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set retentionInDays from ai-gateway:observability.logRetentionDays, within [minRetentionDays, maxRetentionDays].",
  configSchema: {
    properties: {
      minRetentionDays: { type: "integer", minimum: 1, default: 1, description: "The fewest days a log group may keep its events." },
      maxRetentionDays: { type: "integer", minimum: 1, maximum: 3653, default: 3653, description: "The most days a log group may keep its events." },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:cloudwatch/logGroup:LogGroup") return;
    const { minRetentionDays, maxRetentionDays } = args.getConfig<RetentionConfig>();
    const days = args.props.retentionInDays;
    if (!days) {
      reportViolation(withRemedy(`log group ${args.props.name ?? args.name} never expires its logs`, `set retentionInDays between ${minRetentionDays} and ${maxRetentionDays}`));
    } else if (days < minRetentionDays || days > maxRetentionDays) {
      reportViolation(withRemedy(`log group ${args.props.name ?? args.name} keeps logs ${days} days, outside ${minRetentionDays}..${maxRetentionDays}`, "change ai-gateway:observability.logRetentionDays"));
    }
  },
};

const USER_POOL = "aws:cognito/userPool:UserPool";

export interface PasswordConfig {
  minimumLength: number;
  requireCharacterClasses: boolean;
  maxTemporaryPasswordValidityDays: number;
}

/** What Cognito applies when a pool has no passwordPolicy block. */
const COGNITO_DEFAULT_PASSWORD_POLICY = {
  minimumLength: 8,
  requireLowercase: true,
  requireUppercase: true,
  requireNumbers: true,
  requireSymbols: true,
  temporaryPasswordValidityDays: 7,
};

export const cognitoPasswordPolicy: ResourceValidationPolicy = {
  name: "cognito-password-policy",
  description: "Cognito user pools require strong passwords: a minimum length, all character classes, short-lived temporary passwords.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set passwordPolicy { minimumLength, requireLowercase, requireUppercase, requireNumbers, requireSymbols, temporaryPasswordValidityDays } on the user pool.",
  configSchema: {
    properties: {
      minimumLength: { type: "integer", minimum: 6, maximum: 99, default: 12, description: "The shortest password a user pool may accept." },
      requireCharacterClasses: { type: "boolean", default: true, description: "Lower case, upper case, digits and symbols all required." },
      maxTemporaryPasswordValidityDays: { type: "integer", minimum: 1, maximum: 365, default: 7, description: "The most days an administrator-issued temporary password may stay valid." },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== USER_POOL) return;
    const config = args.getConfig<PasswordConfig>();
    const policy = { ...COGNITO_DEFAULT_PASSWORD_POLICY, ...(isRecord(args.props.passwordPolicy) ? args.props.passwordPolicy : {}) };
    if (policy.minimumLength < config.minimumLength) {
      reportViolation(withRemedy(`passwords may be ${policy.minimumLength} characters; at least ${config.minimumLength} required`, `set passwordPolicy.minimumLength to ${config.minimumLength} or more`));
    }
    if (config.requireCharacterClasses) {
      const missing = (["requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"] as const).filter((k) => policy[k] !== true);
      if (missing.length) reportViolation(withRemedy(`passwordPolicy does not set ${missing.join(", ")}`, "require every character class"));
    }
    if (policy.temporaryPasswordValidityDays > config.maxTemporaryPasswordValidityDays) {
      reportViolation(withRemedy(`temporary passwords stay valid ${policy.temporaryPasswordValidityDays} days, above ${config.maxTemporaryPasswordValidityDays}`, "lower passwordPolicy.temporaryPasswordValidityDays"));
    }
  },
};

const MFA_STRENGTH: Record<string, number> = { OFF: 0, OPTIONAL: 1, ON: 2 };

export interface MfaConfig {
  minimum: "OFF" | "OPTIONAL" | "ON";
}

export const cognitoMfa: ResourceValidationPolicy = {
  name: "cognito-mfa",
  description: "Cognito user pools offer MFA at least as strongly as the stack requires (ON in prod), with a second factor configured.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Set ai-gateway:identity.mfa ("ON" in prod); the identity component maps it to mfaConfiguration and enables software tokens.',
  configSchema: {
    properties: {
      minimum: { type: "string", enum: ["OFF", "OPTIONAL", "ON"], default: "OPTIONAL", description: "The weakest mfaConfiguration allowed." },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== USER_POOL) return;
    const { minimum } = args.getConfig<MfaConfig>();
    const mode = args.props.mfaConfiguration ?? "OFF";
    if ((MFA_STRENGTH[mode] ?? 0) < MFA_STRENGTH[minimum]!) {
      reportViolation(withRemedy(`mfaConfiguration is ${mode}; this stack requires at least ${minimum}`, `set ai-gateway:identity.mfa to "${minimum}"`));
    }
    const softwareToken = isRecord(args.props.softwareTokenMfaConfiguration) && args.props.softwareTokenMfaConfiguration.enabled === true;
    const otherFactor = isRecord(args.props.smsConfiguration) || isRecord(args.props.emailMfaConfiguration);
    if (mode !== "OFF" && !softwareToken && !otherFactor) {
      reportViolation(withRemedy(`mfaConfiguration is ${mode} but no second factor is configured`, "enable softwareTokenMfaConfiguration"));
    }
  },
};

export const identityAndLogPolicies = [cloudwatchLogRetention, cognitoPasswordPolicy, cognitoMfa];
