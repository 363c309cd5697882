/**
 * IAM: least privilege on the gateway's roles. Deny statements are never a risk and are
 * skipped (the S3 TLS-only policy is a `Deny s3:*` on purpose).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { unjustifiedBedrockArn } from "../support/bedrock-arns";
import { iamNoManagedPolicyAttachments } from "./iam-attachments";
import { actionMatches, hasActionWildcard, policyDocumentsOf, serviceOf } from "../support/iam-documents";
import { wildcardReach } from "../support/resource-wildcards";
import { withRemedy } from "../support/values";

/** Services that hold user data or spend money per call: their actions need named resources. */
export const SCOPED_SERVICES = ["bedrock", "appsync", "dynamodb", "firehose", "s3", "sqs"];

/** The Bedrock actions that run a model. */
const INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];

export const iamNoWildcardActions: ResourceValidationPolicy = {
  name: "iam-no-wildcard-actions",
  description: "IAM and resource policies never allow an action with a wildcard (`*`, `s3:*`, `dynamodb:*Item`, `s3:Get?bject`), nor use Allow with NotAction.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "List the exact actions the function calls, e.g. `dynamodb:UpdateItem` instead of `dynamodb:*`.",
  validateResource: (args, reportViolation) => {
    for (const doc of policyDocumentsOf(args.type, args.props)) {
      for (const s of doc.statements.filter((st) => st.effect === "Allow")) {
        for (const action of s.actions.filter(hasActionWildcard)) {
          reportViolation(withRemedy(`${doc.field} allows the wildcard action "${action}"`, "list the exact actions the code calls"));
        }
        if (s.notActions.length) {
          reportViolation(withRemedy(`${doc.field} allows everything except ${s.notActions.join(", ")} (Allow with NotAction)`, "replace NotAction with an explicit Action list"));
        }
      }
    }
  },
};

export const iamNoWildcardResources: ResourceValidationPolicy = {
  name: "iam-no-wildcard-resources",
  description: `Allow statements with ${SCOPED_SERVICES.join(", ")} actions name their resources: no \`*\`, no wildcard in an ARN's region, account or resource (except \`<bucket-arn>/*\` and \`<table-arn>/index/*\`), no NotResource.`,
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Use the ARNs of the stack's own tables, queues, buckets, namespaces and models (outputs of those resources).",
  validateResource: (args, reportViolation) => {
    for (const doc of policyDocumentsOf(args.type, args.props)) {
      for (const s of doc.statements.filter((st) => st.effect === "Allow")) {
        const services = [...new Set(s.actions.map(serviceOf))].filter((svc) => svc === "*" || SCOPED_SERVICES.includes(svc));
        if (!services.length) continue;
        const what = services.join(", ");
        for (const r of s.resources) {
          const reach = wildcardReach(r, SCOPED_SERVICES);
          if (reach === "every") {
            reportViolation(withRemedy(`${doc.field} grants ${what} actions on every resource ("${r}")`, "name the stack's own resource ARNs"));
          } else if (reach === "partial") {
            reportViolation(
              withRemedy(
                `${doc.field} grants ${what} actions on whatever matches the wildcard ARN "${r}"`,
                "name each resource's exact ARN; only a bucket's objects (`<bucket-arn>/*`) and a table's indexes (`<table-arn>/index/*`) may end in a wildcard",
              ),
            );
          }
        }
        if (s.notResources.length) {
          reportViolation(withRemedy(`${doc.field} grants ${what} actions on everything except ${s.notResources.join(", ")} (NotResource)`, "name the resources with Resource"));
        }
      }
    }
  },
};

export interface BedrockAllowlistConfig {
  allowedModelIds: string[];
}

export const iamBedrockInvokeAllowlist: ResourceValidationPolicy = {
  name: "iam-bedrock-invoke-allowlist",
  description: "bedrock:InvokeModel* is allowed only on the allowlisted models' foundation-model and inference-profile ARNs.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Grant invoke on the ARNs derived from `ai-gateway:models` (components/lib/bedrockArns.ts), and list the same ids in this policy's `allowedModelIds`.",
  configSchema: {
    properties: {
      allowedModelIds: {
        type: "array",
        items: { type: "string" },
        description: "Bedrock model and inference-profile ids the organisation approves for this stack.",
      },
    },
    required: ["allowedModelIds"],
  },
  validateResource: (args, reportViolation) => {
    const { allowedModelIds } = args.getConfig<BedrockAllowlistConfig>();
    const region = args.props.region ?? args.provider?.props?.region;
    for (const doc of policyDocumentsOf(args.type, args.props)) {
      for (const s of doc.statements.filter((st) => st.effect === "Allow")) {
        const invokes = s.actions.some((a) => INVOKE_ACTIONS.some((invoke) => actionMatches(a, invoke)));
        if (!invokes) continue;
        for (const arn of s.resources) {
          const problem = unjustifiedBedrockArn(arn, allowedModelIds, typeof region === "string" ? region : undefined);
          if (problem) {
            reportViolation(withRemedy(`${doc.field} allows invoking ${problem} ("${arn}")`, "invoke only the allowlisted models' ARNs; add a model to `ai-gateway:models` and to allowedModelIds together"));
          }
        }
      }
    }
  },
};

export const iamPolicies = [iamNoWildcardActions, iamNoWildcardResources, iamBedrockInvokeAllowlist, iamNoManagedPolicyAttachments];
