/**
 * Lambda code archives: unpacked to a directory the way Lambda does and run in a fresh Node
 * process (vitest's module runner would lend the bundle a `require` Lambda does not have), they
 * load the stack config from beside the bundle and need nothing outside it.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLED_CONFIG_FILE } from "../../functions/lib/config/load.js";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";
import { SUBSCRIPTION_REFUSED } from "../../functions/lib/subscribe.js";
import { devLikeConfig } from "../support/config-fixtures.js";
import { BUNDLE_FILE, bundleEntry, configForFunctions, functionArchive } from "../../components/lib/bundle.js";
import { readStackConfig } from "../../local/config.js";
import { archiveFile } from "./stackQueries.js";

const { config } = readStackConfig({ stack: "dev" });
const FIXTURE = "tests/infra/fixtures/configEcho.ts";

const workDir = mkdtempSync(join(tmpdir(), "gateway-bundle-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** What the program sets on the functions, plus what Lambda itself provides. */
const LAMBDA_ENV = {
  PATH: process.env.PATH ?? "",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDTESTBUNDLE",
  AWS_SECRET_ACCESS_KEY: "test-secret",
  EVENTS_HTTP_ENDPOINT: "https://example.appsync-api.us-east-1.amazonaws.com/event",
  IDEMPOTENCY_TABLE: "idempotency-test",
  USAGE_TABLE: "usage-test",
  CONVERSATIONS_TABLE: "conversations-test",
  CACHE_TABLE: "cache-test",
  GATEWAY_STACK: "test",
};

/** Imports index.mjs like Lambda's Node runtime: plain ES module, no `require` in scope. */
const RUNNER = `
const [mode, event, context] = JSON.parse(process.argv[2]);
const { handler } = await import("./${BUNDLE_FILE}");
const result = mode === "load" ? typeof handler : await handler(event, { ...context, getRemainingTimeInMillis: () => 5000 });
process.stdout.write("\\n" + JSON.stringify({ result: result ?? null }) + "\\n");
`;

/** Writes an archive's files into a fresh directory, like Lambda's /var/task. */
async function deploy(name: string, archive: pulumi.asset.AssetArchive): Promise<string> {
  const dir = join(workDir, name);
  mkdirSync(dir, { recursive: true });
  for (const file of [BUNDLE_FILE, BUNDLED_CONFIG_FILE]) writeFileSync(join(dir, file), await archiveFile(archive, file));
  writeFileSync(join(dir, "runner.mjs"), RUNNER);
  return dir;
}

/** Runs the deployed handler once in a fresh Node process (no event: only loads it). */
function invoke(dir: string, event?: unknown, context: Record<string, unknown> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["runner.mjs", JSON.stringify([event === undefined ? "load" : "invoke", event ?? null, context])],
      { cwd: dir, env: LAMBDA_ENV, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`handler failed: ${stderr.split("\n").slice(0, 5).join(" | ")}`));
        resolve((JSON.parse(stdout.trim().split("\n").pop()!) as { result: unknown }).result);
      },
    );
  });
}

describe("the config a function receives", () => {
  it("is the stack's config without the identity providers' credentials", () => {
    const config = parseGatewayConfig(devLikeConfig(), { region: "us-east-1" });
    const withProvider = { ...config, identity: { ...config.identity, providers: { google: { clientId: "id", clientSecret: "secret" } } } } as typeof config;
    expect(configForFunctions(withProvider)).toEqual({ ...config, identity: { ...config.identity, providers: {} } });
  });
});

describe("function bundles", () => {
  it("loads the config bundled beside it and runs CommonJS dependencies inside an ES module", async () => {
    const dir = await deploy("fixture", functionArchive(FIXTURE, config));
    expect(await invoke(dir, {})).toEqual({ defaultModelId: "us.amazon.nova-lite-v1:0", tiers: ["default", "pro"], platform: process.platform });
  });

  it("bundles every dependency, importing only Node builtins at runtime", async () => {
    // esbuild reads the bundle back and lists every import and require left in it.
    const scan = await build({
      stdin: { contents: await bundleEntry("functions/chatWorker.ts"), loader: "js", resolveDir: workDir },
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      external: ["*"],
      logLevel: "silent",
    });
    const imports = Object.values(scan.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imports.length).toBeGreaterThan(0);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    for (const specifier of imports) expect(builtins.has(specifier), specifier).toBe(true);
  });

  it("bundles each entry once per program run", () => {
    expect(bundleEntry(FIXTURE)).toBe(bundleEntry(FIXTURE));
  });

  it("ships an onSubscribe that admits a user to their own Outbound channel only", async () => {
    const dir = await deploy("on-subscribe", functionArchive("functions/onSubscribe.ts", config));
    const [me, other] = ["6f1c8a52-3b7e-4d21-9c55-0a4b2e8f7d13", "0b9e4d37-81a2-4f6c-b3d8-5e7a1c2f9046"];
    const subscribe = (path: string) =>
      invoke(
        dir,
        {
          identity: { sub: me, claims: { client_id: "abc" } },
          info: { channel: { path, segments: path.split("/").filter(Boolean) }, channelNamespace: { name: "Outbound-Messages" }, operation: "SUBSCRIBE" },
        },
        { awsRequestId: "req-1", functionName: "on-subscribe" },
      );
    expect(await subscribe(`/Outbound-Messages/${me}`)).toBeNull();
    expect(await subscribe(`/Outbound-Messages/${other}`)).toEqual({ error: SUBSCRIPTION_REFUSED });
  });

  it("ships a chat worker and a dead-letter consumer that start with the environment the program sets", async () => {
    for (const [name, entry] of [
      ["chat-worker", "functions/chatWorker.ts"],
      ["dlq-consumer", "functions/dlqConsumer.ts"],
    ] as const) {
      const dir = await deploy(name, functionArchive(entry, config));
      expect(await invoke(dir)).toBe("function");
    }
  });
});
