/**
 * Which Bedrock ARNs an allowlisted model id justifies. A foundation-model id needs its
 * foundation-model ARN; a cross-region inference profile (`us.`, `eu.`, `global.`...) needs
 * the profile ARN in the stack's region and the foundation model in every region the
 * profile may route to (`global.` also the region-less model ARN). Destination regions are
 * matched by geography rather than listed, so AWS adding a region to a profile does not
 * break the policy, while a region outside the geography still does.
 */

/** The regions each profile prefix may route to. Mirrors functions/lib/config/parse.ts. */
const GEO_REGIONS: Record<string, (region: string) => boolean> = {
  us: (r) => r.startsWith("us-") && !r.startsWith("us-gov-"),
  "us-gov": (r) => r.startsWith("us-gov-"),
  eu: (r) => r.startsWith("eu-"),
  apac: (r) => r.startsWith("ap-"),
  jp: (r) => r === "ap-northeast-1" || r === "ap-northeast-3",
  au: (r) => r === "ap-southeast-2" || r === "ap-southeast-4",
  ca: (r) => r.startsWith("ca-"),
  global: () => true,
};

/** Whether a profile with this prefix may route to `region` (tests compare it with the schema's). */
export function profileRoutesTo(prefix: string, region: string): boolean {
  return GEO_REGIONS[prefix]?.(region) ?? false;
}

export function profilePrefix(modelId: string): string | undefined {
  const parts = modelId.split(".");
  return parts.length > 2 && parts[0]! in GEO_REGIONS ? parts[0] : undefined;
}

interface ParsedArn {
  region: string;
  account: string;
  kind: string;
  id: string;
}

function parseBedrockArn(arn: string): ParsedArn | undefined {
  const match = /^arn:[a-z-]+:bedrock:([^:]*):([^:]*):([a-z-]+)\/(.+)$/.exec(arn);
  if (!match) return undefined;
  return { region: match[1]!, account: match[2]!, kind: match[3]!, id: match[4]! };
}

/**
 * Why `arn` is not justified by the allowlist, or undefined when it is.
 * `stackRegion` is the region the gateway runs in, when the provider tells.
 */
export function unjustifiedBedrockArn(arn: string, allowlist: readonly string[], stackRegion?: string): string | undefined {
  if (arn === "*") return "every model (`*`)";
  const parsed = parseBedrockArn(arn);
  if (!parsed) return "a resource that is not a foundation-model or inference-profile ARN";
  const { region, account, kind, id } = parsed;
  if (kind === "inference-profile") {
    if (!allowlist.includes(id) || !profilePrefix(id)) return `inference profile "${id}", which is not allowlisted`;
    if (account !== "*" && !/^\d{12}$/.test(account)) return `inference profile "${id}" in an unexpected account "${account}"`;
    if (stackRegion && region !== stackRegion) return `inference profile "${id}" in ${region || "no region"}, not the stack's region ${stackRegion}`;
    return undefined;
  }
  if (kind !== "foundation-model") return `a ${kind} ARN; only allowlisted foundation models and inference profiles may be invoked`;
  if (account !== "") return `foundation model "${id}" with an account id; foundation-model ARNs have none`;
  const reasons: string[] = [];
  for (const allowed of allowlist) {
    const prefix = profilePrefix(allowed);
    if (!prefix) {
      if (allowed !== id) continue;
      if (!stackRegion || region === stackRegion) return undefined;
      reasons.push(`foundation model "${id}" in ${region || "no region"}, not the stack's region ${stackRegion}`);
      continue;
    }
    if (allowed.slice(prefix.length + 1) !== id) continue;
    if (region === "" ? prefix === "global" : GEO_REGIONS[prefix]!(region)) return undefined;
    reasons.push(`foundation model "${id}" in ${region || "no region"}, where profile "${allowed}" never routes`);
  }
  return reasons[0] ?? `foundation model "${id}", which is not allowlisted`;
}
