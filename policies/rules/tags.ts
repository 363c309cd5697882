/**
 * Tags: cost reports and clean-up scripts find a stack's resources by its project and stack
 * tags. The program gives every resource one aws.Provider with defaultTags, so a resource
 * passes if its own tags or its provider's default tags carry the keys.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isRecord, parseJsonValue, withRemedy } from "../support/values";

/**
 * Resource types that accept `tags` (and so inherit the provider's default tags), for the
 * services the gateway uses. tests/policies checks that every taggable type in the mocked
 * stacks is listed here, so a new kind of resource cannot slip past untagged, and that every
 * type listed is one @pulumi/aws gives `tags`.
 */
export const TAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:appsync/api:Api",
  "aws:appsync/channelNamespace:ChannelNamespace",
  "aws:appsync/graphQLApi:GraphQLApi",
  "aws:athena/dataCatalog:DataCatalog",
  "aws:athena/workgroup:Workgroup",
  "aws:bedrock/guardrail:Guardrail",
  "aws:bedrock/inferenceProfile:InferenceProfile",
  "aws:cloudfront/distribution:Distribution",
  "aws:cloudfront/function:Function",
  "aws:cloudfront/keyValueStore:KeyValueStore",
  "aws:cloudwatch/compositeAlarm:CompositeAlarm",
  "aws:cloudwatch/eventBus:EventBus",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:cloudwatch/metricStream:MetricStream",
  "aws:cognito/identityPool:IdentityPool",
  "aws:cognito/userPool:UserPool",
  "aws:dynamodb/table:Table",
  "aws:glue/catalogDatabase:CatalogDatabase",
  "aws:glue/crawler:Crawler",
  "aws:glue/job:Job",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:iam/policy:Policy",
  "aws:iam/role:Role",
  "aws:iam/user:User",
  "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  "aws:kinesis/stream:Stream",
  "aws:kms/key:Key",
  "aws:lambda/eventSourceMapping:EventSourceMapping",
  "aws:lambda/function:Function",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketObject:BucketObject",
  "aws:s3/bucketObjectv2:BucketObjectv2",
  "aws:s3/bucketV2:BucketV2",
  "aws:secretsmanager/secret:Secret",
  "aws:sns/topic:Topic",
  "aws:sqs/queue:Queue",
  "aws:ssm/parameter:Parameter",
  "aws:wafv2/ipSet:IpSet",
  "aws:wafv2/ruleGroup:RuleGroup",
  "aws:wafv2/webAcl:WebAcl",
]);

export const PROJECT_TAG = "ai-gateway:project";
export const STACK_TAG = "ai-gateway:stack";

/** The provider's `defaultTags.tags`; the aws SDK sends the block as JSON text. */
export function providerDefaultTags(provider: { props: Record<string, any> } | undefined): Record<string, unknown> {
  const block = parseJsonValue(provider?.props?.defaultTags);
  return isRecord(block) && isRecord(block.tags) ? block.tags : {};
}

export interface TagConfig {
  requiredTags: string[];
  expectedValues: Record<string, string>;
}

export const requiredTags: ResourceValidationPolicy = {
  name: "required-tags",
  description: `Every taggable resource carries the ${PROJECT_TAG} and ${STACK_TAG} tags, itself or through its provider's defaultTags.`,
  enforcementLevel: "mandatory",
  severity: "low",
  remediationSteps: "Create the resource with the gateway's aws.Provider (it sets defaultTags), e.g. by passing `{ parent: this }` inside a component, or set the tags explicitly.",
  configSchema: {
    properties: {
      requiredTags: { type: "array", items: { type: "string" }, default: [PROJECT_TAG, STACK_TAG], description: "The tag keys every taggable resource must carry." },
      expectedValues: {
        type: "object",
        additionalProperties: { type: "string" },
        default: {},
        description: "Tag values the stack must carry, e.g. the stack name.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (!TAGGABLE_TYPES.has(args.type)) return;
    const config = args.getConfig<TagConfig>();
    const own = isRecord(args.props.tags) ? args.props.tags : {};
    const tags: Record<string, unknown> = { ...providerDefaultTags(args.provider), ...own };
    const missing = config.requiredTags.filter((key) => typeof tags[key] !== "string" || tags[key] === "");
    if (missing.length) {
      reportViolation(withRemedy(`${args.name} is missing the tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`, "create it with the gateway's aws.Provider (defaultTags) or set tags"));
    }
    for (const [key, expected] of Object.entries(config.expectedValues)) {
      if (typeof tags[key] === "string" && tags[key] !== expected) {
        reportViolation(withRemedy(`${args.name} has ${key}="${String(tags[key])}", expected "${expected}"`, "deploy with the right stack's provider"));
      }
    }
  },
};
