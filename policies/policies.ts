/**
 * The gateway's CrossGuard policies. index.ts hands them to PolicyPack for
 * `pulumi preview --policy-pack policies`; evaluate.ts runs them over mocked stacks for
 * `npm run policy` and the tests. Thresholds that differ per stack come from
 * config.<stack>.json (`--policy-pack-config`).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { alarmsNotify, workerErrorAlarm } from "./rules/alarms";
import { analyticsPolicies } from "./rules/analytics";
import { appsyncPolicies } from "./rules/appsync";
import { cloudfrontPolicies } from "./rules/cloudfront";
import { dataStorePolicies } from "./rules/data-stores";
import { guardrailPolicies } from "./rules/guardrail";
import { iamPolicies } from "./rules/iam";
import { identityAndLogPolicies } from "./rules/identity-and-logs";
import { lambdaPolicies } from "./rules/lambda";
import { s3Policies } from "./rules/s3";
import { stackConfigPolicies } from "./rules/stack-config";
import { requiredTags } from "./rules/tags";
import { wafPolicies } from "./rules/waf";

export const POLICY_PACK_NAME = "ai-gateway";

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  ...iamPolicies,
  ...appsyncPolicies,
  ...lambdaPolicies,
  ...dataStorePolicies,
  ...guardrailPolicies,
  ...s3Policies,
  ...analyticsPolicies,
  ...cloudfrontPolicies,
  ...identityAndLogPolicies,
  ...wafPolicies,
  requiredTags,
  ...stackConfigPolicies,
  workerErrorAlarm,
  alarmsNotify,
];
