/**
 * Loading the validated config inside a function. The config travels as a JSON file in the
 * code archive (Lambda env vars cap at 4 KB); GATEWAY_CONFIG_PATH overrides the location for
 * local mode and tests.
 */
import { readBundledConfig } from "./bundled-file.js";
import { parseGatewayConfig } from "./parse.js";
import type { GatewayConfig } from "./schema.js";

export { BUNDLED_CONFIG_FILE } from "./bundled-file.js";

export function loadGatewayConfig(path = process.env.GATEWAY_CONFIG_PATH): GatewayConfig {
  return parseGatewayConfig(readBundledConfig(path));
}
