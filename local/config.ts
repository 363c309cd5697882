/**
 * Reading a stack's config the way `pulumi up` sees it (local/stack-file.ts), then the same
 * schema and region checks as index.ts. Local mode and
 * its tests read models, tiers and limits only from here.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, gatewayConfigFromPulumi, parseGatewayConfig } from "../functions/lib/config/parse.js";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { asPulumiConfig, projectDefaultValues, stackFileValues } from "./stack-file.js";

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
  const { config: all } = asPulumiConfig({ ...projectDefaultValues(projectDir), ...stackFileValues(file) }, UNAVAILABLE_SECRET);
  const region = all["aws:region"];
  if (!region) throw new ConfigError([`aws:region: required in ${file}`]);
  return { stack, region, config: parseGatewayConfig(gatewayConfigFromPulumi(all), { region }), file };
}
