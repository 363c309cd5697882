/**
 * A regional WAF web ACL in front of the Events API: a per-IP rate limit (connection floods
 * and publish storms cost Lambda invocations) and AWS's IP-reputation list.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface WebAclArgs {
  /** The protected resource (the Events API's ARN). */
  resourceArn: pulumi.Input<string>;
  /** Requests one IP may make in 5 minutes before it is blocked. */
  rateLimitPer5Min: number;
}

/**
 * AWS accepts only letters, digits, whitespace and `+=:#@/-,._` here (no apostrophe): the
 * provider checks just the length, so anything else fails `pulumi up` at CreateWebACL. The
 * policy `wafv2-description-format` checks every WAF description.
 */
export const WEB_ACL_DESCRIPTION = "Rate limit and IP reputation for the gateway Events API";

const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });

export class WebAcl extends pulumi.ComponentResource {
  readonly acl: aws.wafv2.WebAcl;

  constructor(name: string, args: WebAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:WebAcl", name, {}, opts);

    this.acl = new aws.wafv2.WebAcl(
      `${name}-acl`,
      {
        scope: "REGIONAL",
        description: WEB_ACL_DESCRIPTION,
        defaultAction: { allow: {} },
        visibilityConfig: visibility(`${name}-acl`),
        rules: [
          {
            name: "rate-limit-per-ip",
            priority: 0,
            action: { block: {} },
            statement: { rateBasedStatement: { limit: args.rateLimitPer5Min, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
            visibilityConfig: visibility(`${name}-rate-limit`),
          },
          {
            name: "aws-ip-reputation",
            priority: 1,
            overrideAction: { none: {} },
            statement: { managedRuleGroupStatement: { vendorName: "AWS", name: "AWSManagedRulesAmazonIpReputationList" } },
            visibilityConfig: visibility(`${name}-ip-reputation`),
          },
        ],
      },
      { parent: this },
    );

    new aws.wafv2.WebAclAssociation(`${name}-association`, { resourceArn: args.resourceArn, webAclArn: this.acl.arn }, { parent: this });

    this.registerOutputs({ webAclArn: this.acl.arn });
  }
}
