/**
 * Where a function finds its stack config, without the schema: reading the file costs
 * nothing, validating it needs zod, which a function that needs one key should not load.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The file name the function component writes into every code archive. */
export const BUNDLED_CONFIG_FILE = "gateway-config.json";

/**
 * The raw JSON beside the code (in a bundle, beside index.mjs: this module is inlined there);
 * GATEWAY_CONFIG_PATH overrides the location for local mode and tests.
 */
export function readBundledConfig(path = process.env.GATEWAY_CONFIG_PATH): unknown {
  const file = path ?? join(dirname(fileURLToPath(import.meta.url)), BUNDLED_CONFIG_FILE);
  return JSON.parse(readFileSync(file, "utf8"));
}
