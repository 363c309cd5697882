/**
 * Stack files as the Pulumi CLI hands them to a program: `Pulumi.<stack>.yaml`'s `config:`
 * over the project-level defaults in Pulumi.yaml, every value a string with structured values
 * JSON-encoded. `secure:` values cannot be decrypted without the CLI and become a placeholder.
 * Local mode (local/config.ts) and the mocked stack (tools/mocked-stack.ts) both read stack
 * files through here.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE } from "../functions/lib/config/parse.js";

export function readYamlFile(file: string): Record<string, unknown> {
  try {
    return (parseYaml(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  } catch (err) {
    // The YAML parser's message names the line and column, which is what the user needs.
    throw new Error(`${file} is not valid YAML: ${(err as Error).message}`);
  }
}

/** A stack file's `config:` values, as written. */
export function stackFileValues(file: string): Record<string, unknown> {
  return (readYamlFile(file).config ?? {}) as Record<string, unknown>;
}

/** Project-level `config:` in Pulumi.yaml: `{ default | value }` entries, unqualified keys in the project's namespace. */
export function projectDefaultValues(projectDir: string): Record<string, unknown> {
  const file = join(projectDir, "Pulumi.yaml");
  if (!existsSync(file)) return {};
  const defaults: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(stackFileValues(file))) {
    const fullKey = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    const isSpec = spec !== null && typeof spec === "object" && !Array.isArray(spec) && ("default" in spec || "value" in spec);
    const value = isSpec ? ((spec as { value?: unknown; default?: unknown }).value ?? (spec as { default?: unknown }).default) : spec;
    if (value !== undefined) defaults[fullKey] = value;
  }
  return defaults;
}

/** Config values as Pulumi hands them over, and which keys held secrets. */
export function asPulumiConfig(values: Record<string, unknown>, secretPlaceholder: string): { config: Record<string, string>; secretKeys: string[] } {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    let secret = false;
    const plain = replaceSecrets(value, () => {
      secret = true;
      return secretPlaceholder;
    });
    if (secret) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { config, secretKeys };
}

function replaceSecrets(value: unknown, placeholder: () => string): unknown {
  if (Array.isArray(value)) return value.map((v) => replaceSecrets(v, placeholder));
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === "secure") return placeholder();
    return Object.fromEntries(entries.map(([k, v]) => [k, replaceSecrets(v, placeholder)]));
  }
  return value;
}
