import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { ConfigError } from "../../functions/lib/config/parse.js";
import { PROJECT_ROOT, readStackConfig, UNAVAILABLE_SECRET } from "../../local/config.js";

let projectDir: string;

beforeAll(async () => {
  projectDir = await mkdtemp(join(tmpdir(), "stack-config-"));
  await copyFile(join(PROJECT_ROOT, "Pulumi.dev.yaml"), join(projectDir, "Pulumi.dev.yaml"));
});

afterAll(async () => {
  await rm(projectDir, { recursive: true, force: true });
});

/** The dev stack file with `edit` applied to its parsed YAML, saved as Pulumi.<stack>.yaml. */
async function variantOfDev(stack: string, edit: (config: Record<string, any>) => void, projectYaml = "name: ai-gateway\n") {
  const document = parseYaml(await readFile(join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8"));
  edit(document.config);
  await writeFile(join(projectDir, `Pulumi.${stack}.yaml`), stringify(document));
  await writeFile(join(projectDir, "Pulumi.yaml"), projectYaml);
}

describe("local mode reads the stack config as pulumi up does", () => {
  it("takes models, tiers and region from Pulumi.<stack>.yaml", async () => {
    const document = parseYaml(await readFile(join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8"));
    const { region, config, file } = readStackConfig({ stack: "dev" });
    expect(file).toBe(join(PROJECT_ROOT, "Pulumi.dev.yaml"));
    expect(region).toBe(document.config["aws:region"]);
    expect(config.models.map((m) => m.id)).toEqual(document.config["ai-gateway:models"].map((m: { id: string }) => m.id));
    expect(Object.keys(config.tiers)).toEqual(Object.keys(document.config["ai-gateway:tiers"]));
    expect(config.tiers.default!.limits).toEqual(document.config["ai-gateway:tiers"].default.limits);
  });

  it("names the key path of a bad value", async () => {
    await variantOfDev("badlimit", (config) => (config["ai-gateway:tiers"].default.limits.daily.inputTokens = "lots"));
    const read = () => readStackConfig({ stack: "badlimit", projectDir });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/ai-gateway:tiers\.default\.limits\.daily\.inputTokens/);
  });

  it("refuses an inference profile the stack's region cannot call", async () => {
    await variantOfDev("eu", (config) => (config["aws:region"] = "eu-west-1"));
    expect(() => readStackConfig({ stack: "eu", projectDir })).toThrow(/cannot be called from region eu-west-1/);
  });

  it("applies project-level defaults under the stack's values and stands in for encrypted secrets", async () => {
    await variantOfDev(
      "secrets",
      (config) => {
        config["ai-gateway:identity"].providers = { google: { clientId: "google-client", clientSecret: { secure: "v1:abc" } } };
      },
      ["name: ai-gateway", "config:", "  ai-gateway:systemPrompt:", "    default: Answer like a pirate.", "  ai-gateway:identity:", "    default: { selfSignUp: false }", ""].join("\n"),
    );
    const { config } = readStackConfig({ stack: "secrets", projectDir });
    expect(config.systemPrompt).toBe("Answer like a pirate.");
    // The stack's own value wins over the project default.
    expect(config.identity.selfSignUp).toBe(true);
    expect(config.identity.providers.google).toEqual({ clientId: "google-client", clientSecret: UNAVAILABLE_SECRET });
  });

  it("says which stack file is missing", () => {
    expect(() => readStackConfig({ stack: "missing", projectDir })).toThrow(/Pulumi\.missing\.yaml.*--stack/);
  });
});
