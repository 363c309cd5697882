/**
 * The Bedrock ARNs a model allowlist needs in IAM. A cross-region inference profile routes a
 * request to the model in any of its destination regions, and Bedrock checks the caller's
 * permission on the profile and on the foundation model in the region that serves it; a
 * missing region shows up as an intermittent AccessDenied, so the list must be complete.
 */
import { inferenceProfilePrefix } from "../../functions/lib/config/parse.js";

/**
 * Where each geo prefix's profiles may route to (AWS "supported Regions for cross-Region
 * inference"). Kept in one place so a new destination region is a one-line change.
 */
export const GEO_DESTINATION_REGIONS: Readonly<Record<string, readonly string[]>> = {
  us: ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
  "us-gov": ["us-gov-east-1", "us-gov-west-1"],
  eu: ["eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3"],
  apac: [
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
  ],
  jp: ["ap-northeast-1", "ap-northeast-3"],
  au: ["ap-southeast-2", "ap-southeast-4"],
  ca: ["ca-central-1", "ca-west-1"],
  // Global profiles route anywhere; IAM names them with the region-less model ARN instead.
  global: [],
};

export interface BedrockArnContext {
  partition: string;
  region: string;
  accountId: string;
}

/** The model id behind an inference profile: `us.amazon.nova-lite-v1:0` -> `amazon.nova-lite-v1:0`. */
export function foundationModelId(modelId: string): string {
  const prefix = inferenceProfilePrefix(modelId);
  return prefix ? modelId.slice(prefix.length + 1) : modelId;
}

/** Every ARN `bedrock:InvokeModel*` must allow for one allowlisted model or profile id. */
export function bedrockResourceArns(modelId: string, ctx: BedrockArnContext): string[] {
  const { partition, region, accountId } = ctx;
  const modelArn = (r: string, id: string) => `arn:${partition}:bedrock:${r}::foundation-model/${id}`;
  const prefix = inferenceProfilePrefix(modelId);
  if (!prefix) return [modelArn(region, modelId)];
  const destinations = GEO_DESTINATION_REGIONS[prefix];
  if (!destinations) throw new Error(`no destination regions known for inference-profile prefix "${prefix}"`);
  const model = foundationModelId(modelId);
  const arns = [`arn:${partition}:bedrock:${region}:${accountId}:inference-profile/${modelId}`];
  // The source region is always a destination of its own profile.
  for (const r of new Set([region, ...destinations])) arns.push(modelArn(r, model));
  if (prefix === "global") arns.push(`arn:${partition}:bedrock:::foundation-model/${model}`);
  return arns;
}

/** The union over an allowlist, without duplicates, in a stable order. */
export function allowlistArns(modelIds: readonly string[], ctx: BedrockArnContext): string[] {
  return [...new Set(modelIds.flatMap((id) => bedrockResourceArns(id, ctx)))];
}
