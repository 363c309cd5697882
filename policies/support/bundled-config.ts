/**
 * The stack config as the functions will run with it. The pack sees resources, not stack
 * config, but every Lambda code archive carries the validated config as a JSON file beside
 * the bundle (DESIGN 3), so the stack policies read it from there: what they check is what
 * is deployed, not a copy that could drift.
 */
import { TYPES, ofType, type StackResource } from "./stack-graph";
import { archiveFileText, archiveIsReadable, isRecord } from "./values";

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

export interface BundledConfigs {
  /** Distinct configs (normally exactly one). */
  configs: FoundConfig[];
  /** How many functions' code archives had any readable file; 0 means nothing could be checked. */
  readableArchives: number;
}

/** The configs found in the stack's Lambda archives, and whether the archives could be read at all. */
export async function bundledConfigs(resources: readonly StackResource[]): Promise<BundledConfigs> {
  const byText = new Map<string, FoundConfig>();
  let readableArchives = 0;
  for (const fn of ofType(resources, TYPES.function)) {
    if (await archiveIsReadable(fn.props.code)) readableArchives += 1;
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
  return { configs: [...byText.values()], readableArchives };
}
