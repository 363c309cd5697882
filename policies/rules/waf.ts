/**
 * WAFv2: descriptions AWS will accept. The provider checks only their length, so a
 * description with an apostrophe passes `pulumi preview` (and mocks) and fails `pulumi up`
 * at CreateWebACL; this policy fails the preview instead.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { withRemedy } from "../support/values";

/** The WAFv2 resource types whose args carry a `description` (@pulumi/aws 7). */
export const WAFV2_DESCRIBED_TYPES = new Set([
  "aws:wafv2/webAcl:WebAcl",
  "aws:wafv2/ruleGroup:RuleGroup",
  "aws:wafv2/ipSet:IpSet",
  "aws:wafv2/regexPatternSet:RegexPatternSet",
]);

/** The WAFv2 API reference's pattern for Description (WebACL, RuleGroup, IPSet, RegexPatternSet). */
export const WAFV2_DESCRIPTION_PATTERN = /^[\w+=:#@/\-,.][\w+=:#@/\-,.\s]+[\w+=:#@/\-,.]$/;
const ALLOWED_CHARACTER = /[\w+=:#@/\-,.\s]/;

/** What is wrong with a description the pattern refuses, in words an operator can act on. */
export function describeWafDescriptionProblem(description: string): string {
  const refused = [...new Set([...description].filter((c) => !ALLOWED_CHARACTER.test(c)))];
  if (refused.length) return `contains ${refused.map((c) => JSON.stringify(c)).join(", ")}, which AWS refuses`;
  if (description.length < 3) return "is shorter than the 3 characters AWS requires";
  return "starts or ends with whitespace, which AWS refuses";
}

export const wafv2DescriptionFormat: ResourceValidationPolicy = {
  name: "wafv2-description-format",
  description: "WAFv2 web ACLs, rule groups, IP sets and regex pattern sets have descriptions AWS accepts (letters, digits, whitespace and + = : # @ / - , . _ only).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Rewrite the description with letters, digits, spaces and + = : # @ / - , . _ only (no apostrophes, quotes or parentheses), not starting or ending with whitespace.",
  validateResource: (args, reportViolation) => {
    if (!WAFV2_DESCRIBED_TYPES.has(args.type)) return;
    const description = args.props.description;
    // Absent, or unknown during preview (it comes from another resource): nothing to judge yet.
    if (typeof description !== "string") return;
    if (WAFV2_DESCRIPTION_PATTERN.test(description)) return;
    reportViolation(
      withRemedy(
        `the description ${JSON.stringify(description)} ${describeWafDescriptionProblem(description)} (pattern ${WAFV2_DESCRIPTION_PATTERN.source}), so \`pulumi up\` would fail at creation`,
        "use letters, digits, spaces and + = : # @ / - , . _ only",
      ),
    );
  },
};

export const wafPolicies = [wafv2DescriptionFormat];
