/**
 * What goes into the function bundles, read from esbuild's metafile with the program's own
 * options: the cold start pays for every byte (sizes and times: `npm run bench`).
 */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { bundleOptions } from "../../components/lib/bundle.js";

async function bundledModules(entry: string): Promise<string[]> {
  const result = await build({ ...bundleOptions(entry), metafile: true });
  return Object.values(result.metafile!.outputs).flatMap((output) => Object.keys(output.inputs));
}

const FUNCTIONS = ["functions/onSubscribe.ts", "functions/chatWorker.ts", "functions/dlqConsumer.ts"];

describe("function bundle contents", () => {
  it("keeps the config schema and zod out of the subscribe authorizer, which needs one config key", async () => {
    const modules = await bundledModules("functions/onSubscribe.ts");
    expect(modules.filter((m) => m.includes("node_modules/zod/") || m.endsWith("config/schema.ts"))).toEqual([]);
    expect(modules).toContain("functions/lib/config/metrics-namespace.ts");
  });

  it.each(FUNCTIONS)("gives %s only the environment link of the SDK's credential chain", async (entry) => {
    const modules = await bundledModules(entry);
    const chainLinks = modules.filter((m) => /credential-provider-(node|ini|sso|process|web-identity|login|http)\/|credential-provider-imds/.test(m));
    expect(chainLinks).toEqual([]);
  });

  it.each(["functions/chatWorker.ts", "functions/dlqConsumer.ts"])("bundles %s with zod/mini and its English messages only, not zod's method-laden classic API", async (entry) => {
    const modules = await bundledModules(entry);
    expect(modules.some((m) => m.includes("node_modules/zod/v4/mini/"))).toBe(true);
    expect(modules.filter((m) => m.includes("node_modules/zod/v4/classic/"))).toEqual([]);
    expect(modules.filter((m) => m.includes("node_modules/zod/v4/locales/")).map((m) => m.replace(/.*\/locales\//, ""))).toEqual(["en.js"]);
  });
});
