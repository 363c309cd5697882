/**
 * The stack config as the functions will run with it. The pack sees resources, not stack
 * config, but every Lambda code archive carries the validated config as a JSON file beside
 * the bundle (DESIGN 3), so the stack policies read it from there: what they check is what
 * is deployed, not a copy that could drift.
 */
import { TYPES, ofType, type StackResource } from "./stack-graph";
import { archiveFileText, isRecord } from "./values";

/** The file name the function component writes; equals BUNDLED_CONFIG_FILE in functions/lib/config/load.ts. */
export const BUNDLED_CONFIG_FILE = "gateway-config.json";

export interface BundledTier {
  models?: unknown;
  limits?: unknown;
  maxOutputTokensPerRequest?: unknown;
  maxConcurrentRequests?: unknown;
}

export interface BundledConfig {
  models?: Array<{ id?: unknown }>;
  tiers?: Record<string, BundledTier>;
}

export interface FoundConfig {
  /** The functions carrying this exact config text. */
  functions: StackResource[];
  config: BundledConfig;
}

/** Distinct configs found in the stack's Lambda archives (normally exactly one). */
export async function bundledConfigs(resources: readonly StackResource[]): Promise<FoundConfig[]> {
  const byText = new Map<string, FoundConfig>();
  for (const fn of ofType(resources, TYPES.function)) {
    const text = await archiveFileText(fn.props.code, BUNDLED_CONFIG_FILE);
    if (text === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const found: FoundConfig = byText.get(text) ?? { functions: [], config: isRecord(parsed) ? parsed : {} };
    found.functions.push(fn);
    byText.set(text, found);
  }
  return [...byText.values()];
}
