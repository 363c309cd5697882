/**
 * Loading the validated config inside a function. The config travels as a JSON file in the
 * code archive (Lambda env vars cap at 4 KB); GATEWAY_CONFIG_PATH overrides the location for
 * local mode and tests.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseGatewayConfig } from "./parse.js";
import type { GatewayConfig } from "./schema.js";

/** The file name the function component writes into every code archive. */
export const BUNDLED_CONFIG_FILE = "gateway-config.json";

export function loadGatewayConfig(path = process.env.GATEWAY_CONFIG_PATH): GatewayConfig {
  const file = path ?? join(dirname(fileURLToPath(import.meta.url)), BUNDLED_CONFIG_FILE);
  return parseGatewayConfig(JSON.parse(readFileSync(file, "utf8")));
}
