/**
 * Turning raw stack config into a GatewayConfig, or into one error that names every bad key.
 */
import * as z from "zod";
import { gatewayConfigSchema, type GatewayConfig } from "./schema.js";

export const CONFIG_NAMESPACE = "ai-gateway";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `ai-gateway:tiers.pro.limits.daily.inputTokens: expected a number` */
function describeIssue(issue: z.core.$ZodIssue): string {
  const [top, ...rest] = issue.path.map(String);
  const key = top === undefined ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${top}`;
  const path = rest.length ? `${key}.${rest.join(".")}` : key;
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => (top === undefined ? `${CONFIG_NAMESPACE}:${k}` : `${path}.${k}`)).map((k) => `${k}: unknown key`).join("\n  - ");
  }
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) return `${path}: required`;
  // A bad record key (a tier name): zod says only "Invalid key in record"; the key's own rule says why.
  if (issue.code === "invalid_key") return `${path}: ${issue.issues.map((i) => i.message).join("; ")}`;
  return `${path}: ${issue.message}`;
}

/** Cross-region inference-profile prefixes and the regions that may call them. */
const GEO_PREFIX_REGIONS: Record<string, (region: string) => boolean> = {
  us: (r) => r.startsWith("us-") && !r.startsWith("us-gov-"),
  "us-gov": (r) => r.startsWith("us-gov-"),
  eu: (r) => r.startsWith("eu-"),
  apac: (r) => r.startsWith("ap-"),
  jp: (r) => r === "ap-northeast-1" || r === "ap-northeast-3",
  au: (r) => r === "ap-southeast-2" || r === "ap-southeast-4",
  ca: (r) => r.startsWith("ca-"),
  global: () => true,
};

/** Whether a profile with this geo prefix may be called from (and route within) `region`. */
export function profileServesRegion(prefix: string, region: string): boolean {
  return GEO_PREFIX_REGIONS[prefix]?.(region) ?? false;
}

export function inferenceProfilePrefix(modelId: string): string | undefined {
  const head = modelId.split(".")[0]!;
  return head in GEO_PREFIX_REGIONS && modelId.split(".").length > 2 ? head : undefined;
}

/**
 * Validates raw config (keys without the `ai-gateway:` prefix) and applies defaults.
 * With a region, also checks that every inference-profile prefix can be called from it.
 */
export function parseGatewayConfig(raw: unknown, options: { region?: string } = {}): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(result.error.issues.map(describeIssue));
  const config = result.data;
  if (options.region) {
    const region = options.region;
    const problems = config.models.flatMap((m, i) => {
      const prefix = inferenceProfilePrefix(m.id);
      return prefix && !profileServesRegion(prefix, region)
        ? [`${CONFIG_NAMESPACE}:models.${i}.id: inference profile "${m.id}" cannot be called from region ${region}`]
        : [];
    });
    const sesArn = config.identity.sesSourceArn;
    const sesPartition = sesArn?.split(":")[1];
    if (sesPartition && sesPartition !== regionPartition(region)) {
      problems.push(
        `${CONFIG_NAMESPACE}:identity.sesSourceArn: the SES identity is in partition ${sesPartition}, but region ${region} is in ${regionPartition(region)}; Cognito sends mail only through an identity of its own partition`,
      );
    }
    if (problems.length) throw new ConfigError(problems);
  }
  return config;
}

/** The AWS partition a region belongs to (what an ARN's second field says). */
export function regionPartition(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isof-") || region.startsWith("eu-isof-")) return "aws-iso-f";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("eusc-")) return "aws-eusc";
  return "aws";
}

/**
 * Domains reserved for documentation and testing (RFC 2606, RFC 6761): an address there is a
 * placeholder, and mail to it goes nowhere.
 */
const PLACEHOLDER_MAIL_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/i;

export function isPlaceholderEmail(address: string): boolean {
  return PLACEHOLDER_MAIL_DOMAIN.test(address.slice(address.lastIndexOf("@") + 1));
}

/**
 * Settings that validate but will not work as deployed, each naming its key: the program
 * shows them on every preview and up (a placeholder alarm address makes alarms mail nobody).
 */
export function configWarnings(config: GatewayConfig): string[] {
  const warnings: string[] = [];
  const email = config.observability.alarmEmail;
  if (email && isPlaceholderEmail(email)) {
    warnings.push(
      `${CONFIG_NAMESPACE}:observability.alarmEmail: "${email}" is a placeholder (its domain is reserved and receives no mail), so alarms would reach nobody; set a real address: pulumi config set --path '${CONFIG_NAMESPACE}:observability.alarmEmail' ops@your-company.com`,
    );
  }
  return warnings;
}

/**
 * Pulumi hands config over as `{"ai-gateway:models": "<json>", ...}`; strings that are not
 * JSON stay strings. Keys of other namespaces (aws:region) are ignored here.
 */
export function gatewayConfigFromPulumi(all: Record<string, string>): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  return raw;
}

/** The model a request gets when it names none: the flagged default, else the first. */
export function defaultModel(config: GatewayConfig) {
  return config.models.find((m) => m.default) ?? config.models[0]!;
}
