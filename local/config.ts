/**
 * Reading a stack's config the way `pulumi up` sees it: `Pulumi.<stack>.yaml` (over any
 * project-level defaults in Pulumi.yaml), every value handed over as a string with structured
 * values JSON-encoded, then the same schema and region checks as index.ts. Local mode and
 * its tests read models, tiers and limits only from here.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, ConfigError, gatewayConfigFromPulumi, parseGatewayConfig } from "../functions/lib/config/parse.js";
import type { GatewayConfig } from "../functions/lib/config/schema.js";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Secrets are encrypted for the Pulumi CLI; local mode has no key and uses none of them. */
export const UNAVAILABLE_SECRET = "local-mode-secret-unavailable";

export interface StackConfig {
  stack: string;
  region: string;
  config: GatewayConfig;
  /** Absolute path of the stack file read. */
  file: string;
}

export interface ReadStackConfigOptions {
  /** @default "dev" */
  stack?: string;
  /** Where Pulumi.yaml and the stack files are. @default the repository root */
  projectDir?: string;
}

export function readStackConfig(options: ReadStackConfigOptions = {}): StackConfig {
  const stack = options.stack ?? "dev";
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`Invalid stack name "${stack}".`);
  const projectDir = resolve(options.projectDir ?? PROJECT_ROOT);
  const file = join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new Error(`No stack file ${file}. Pick an existing stack with --stack (e.g. --stack dev).`);
  }
  const all = { ...projectDefaults(projectDir), ...stackValues(readYaml(file)) };
  const region = all["aws:region"];
  if (!region) throw new ConfigError([`aws:region: required in ${file}`]);
  return { stack, region, config: parseGatewayConfig(gatewayConfigFromPulumi(all), { region }), file };
}

function readYaml(file: string): Record<string, unknown> {
  try {
    return (parseYaml(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  } catch (err) {
    // The YAML parser's message names the line and column, which is what the user needs.
    throw new Error(`${file} is not valid YAML: ${(err as Error).message}`);
  }
}

/** `config:` of a stack file, as the Pulumi CLI hands it to a program. */
function stackValues(document: Record<string, unknown>): Record<string, string> {
  const config = (document.config ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, asConfigString(value)]));
}

/** Project-level `config:` in Pulumi.yaml: `{ default | value }` entries, unqualified keys in the project's namespace. */
function projectDefaults(projectDir: string): Record<string, string> {
  const file = join(projectDir, "Pulumi.yaml");
  if (!existsSync(file)) return {};
  const config = (readYaml(file).config ?? {}) as Record<string, unknown>;
  const defaults: Record<string, string> = {};
  for (const [key, spec] of Object.entries(config)) {
    const fullKey = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    const isSpec = spec !== null && typeof spec === "object" && !Array.isArray(spec) && ("default" in spec || "value" in spec);
    const value = isSpec ? ((spec as { value?: unknown; default?: unknown }).value ?? (spec as { default?: unknown }).default) : spec;
    if (value !== undefined) defaults[fullKey] = asConfigString(value);
  }
  return defaults;
}

function asConfigString(value: unknown): string {
  const plain = withoutSecrets(value);
  return typeof plain === "string" ? plain : JSON.stringify(plain);
}

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === "secure") return UNAVAILABLE_SECRET;
    return Object.fromEntries(entries.map(([k, v]) => [k, withoutSecrets(v)]));
  }
  return value;
}
