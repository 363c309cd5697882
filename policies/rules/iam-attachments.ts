/**
 * Managed policies attached to the stack's principals. Their documents live outside the
 * stack, so the wildcard and allowlist policies never see them: attaching
 * `arn:aws:iam::aws:policy/AdministratorAccess` would otherwise pass the whole pack. The
 * gateway grants everything through inline policies (aws.iam.RolePolicy), which the pack reads.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, withRemedy } from "../support/values";

/** Where each resource type names the managed policies it attaches. */
const ATTACHMENT_FIELDS: Record<string, string> = {
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
  "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
  "aws:iam/role:Role": "managedPolicyArns",
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
  "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
  "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
};

export interface ManagedPolicyConfig {
  allowedPolicyArns: string[];
}

export const iamNoManagedPolicyAttachments: ResourceValidationPolicy = {
  name: "iam-no-managed-policy-attachments",
  description: "Roles, users and groups get no managed policy (AWS-managed or customer-managed) unless its ARN is allowed in config: grant through inline policies the pack can read.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Replace the attachment with an aws.iam.RolePolicy listing the exact actions and resources; if a managed policy is truly needed, review it and add its ARN to allowedPolicyArns.",
  configSchema: {
    properties: {
      allowedPolicyArns: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Managed policy ARNs the organisation has reviewed and allows attaching (exact ARNs).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const field = ATTACHMENT_FIELDS[args.type];
    if (!field) return;
    const { allowedPolicyArns = [] } = args.getConfig<ManagedPolicyConfig>();
    const arns = asArray(args.props[field] as unknown).filter((a): a is string => typeof a === "string");
    for (const arn of arns.filter((a) => !allowedPolicyArns.includes(a))) {
      reportViolation(
        withRemedy(
          `${field} attaches the managed policy "${arn}", whose permissions the pack cannot check`,
          "grant the exact actions in an inline aws.iam.RolePolicy, or review the policy and add its ARN to allowedPolicyArns",
        ),
      );
    }
  },
};
