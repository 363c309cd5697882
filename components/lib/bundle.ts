/**
 * Lambda code, built at program time: one esbuild bundle per entry (the AWS SDK included, so
 * the tested SDK is the deployed one) plus the validated stack config as a JSON file beside
 * it, where functions/lib/config/load.ts looks for it.
 */
import * as pulumi from "@pulumi/pulumi";
import { build, type BuildOptions } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLED_CONFIG_FILE } from "../../functions/lib/config/load.js";
import type { GatewayConfig } from "../../functions/lib/config/schema.js";

/** The repository root; esbuild resolves and names modules relative to it. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The file name of the bundle inside the archive; the handler string is `index.handler`. */
export const BUNDLE_FILE = "index.mjs";
export const HANDLER = "index.handler";

/**
 * ESM output runs CommonJS dependencies through esbuild's `__require`, which needs a real
 * `require`; aliased imports keep the banner from clashing with bundled top-level names.
 */
const CREATE_REQUIRE_BANNER = [
  'import { createRequire as __gatewayCreateRequire } from "node:module";',
  "const require = __gatewayCreateRequire(import.meta.url);",
].join("\n");

// Several functions may share an entry within one `pulumi up`; bundling it once is enough.
const bundles = new Map<string, Promise<string>>();

/**
 * Modules replaced in every bundle: in Lambda the role's credentials are environment
 * variables, so the SDK's default chain shrinks to its environment link (see the module).
 */
export const LAMBDA_ALIASES: Record<string, string> = {
  "@aws-sdk/credential-provider-node": "./functions/lib/lambda-credentials.ts",
};

/** The esbuild options of every function bundle; `npm run bench` builds with these too. */
export function bundleOptions(entry: string): BuildOptions & { write: false } {
  return {
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node22",
    outfile: BUNDLE_FILE,
    // ESM builds of dependencies tree-shake better; CommonJS remains the fallback.
    mainFields: ["module", "main"],
    alias: LAMBDA_ALIASES,
    banner: { js: CREATE_REQUIRE_BANNER },
    minify: true,
    // Readable function names in stack traces of the deployed code.
    keepNames: true,
    legalComments: "none",
    logLevel: "silent",
  };
}

/** Bundles one entry file into a single ES module (the text of index.mjs). */
export function bundleEntry(entry: string): Promise<string> {
  const path = resolve(PROJECT_ROOT, entry);
  let bundle = bundles.get(path);
  if (!bundle) {
    bundle = build(bundleOptions(entry)).then((result) => {
      const output = result.outputFiles.find((f) => f.path.endsWith(BUNDLE_FILE));
      if (!output) throw new Error(`esbuild produced no ${BUNDLE_FILE} for ${entry}`);
      return output.text;
    });
    bundles.set(path, bundle);
  }
  return bundle;
}

/**
 * The config the functions receive. Identity-provider credentials are Pulumi secrets and no
 * function needs them, so they never enter a code archive (anyone with
 * lambda:GetFunction could read them there).
 */
export function configForFunctions(config: GatewayConfig): GatewayConfig {
  return { ...config, identity: { ...config.identity, providers: {} } };
}

/** The code archive of one function: the bundle as index.mjs and the config beside it. */
export function functionArchive(entry: string, config: GatewayConfig): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({
    [BUNDLE_FILE]: new pulumi.asset.StringAsset(bundleEntry(entry)),
    [BUNDLED_CONFIG_FILE]: new pulumi.asset.StringAsset(`${JSON.stringify(configForFunctions(config), null, 2)}\n`),
  });
}
