/**
 * Runs the real program the way the Pulumi CLI's Node language host does, against the fake
 * engine: `node <nodeargs from Pulumi.yaml> <@pulumi/pulumi>/cmd/run --monitor A --engine B
 * --organization O --project P --stack S --pwd DIR [--dry-run] --parallel N .`, with the
 * stack's config in PULUMI_CONFIG keyed `<namespace>:config:<name>` (what the host sends;
 * the SDK drops the `:config:`) and secret keys in PULUMI_CONFIG_SECRET_KEYS.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readYamlFile } from "../../../local/stack-file.js";
import { PROJECT_NAME, stackPulumiConfig } from "../../../tools/mocked-stack.js";
import { startFakeEngine, type FakeEngine } from "./fakeEngine.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** `@pulumi/pulumi/cmd/run`, resolved from the project as the language host resolves it. */
const RUN_PATH = join(dirname(createRequire(join(ROOT, "package.json")).resolve("@pulumi/pulumi/package.json")), "cmd", "run");

/** Pulumi.yaml's `runtime.options.nodeargs`, split as the host splits them. */
function nodeArgs(): string[] {
  const project = readYamlFile(join(ROOT, "Pulumi.yaml")) as { runtime?: { options?: { nodeargs?: string } } };
  return (project.runtime?.options?.nodeargs ?? "").split(/\s+/).filter(Boolean);
}

/** What the host puts in PULUMI_CONFIG: every key in its `<namespace>:config:<name>` form. */
export function languageHostConfig(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => {
      const at = key.indexOf(":");
      return [`${key.slice(0, at)}:config:${key.slice(at + 1)}`, value];
    }),
  );
}

export interface LanguageHostRun {
  code: number | null;
  stdout: string;
  stderr: string;
  engine: FakeEngine;
  /** From spawn to exit. */
  elapsedMs: number;
}

export async function runUnderLanguageHost(options: {
  stack: "dev" | "prod";
  dryRun: boolean;
  configOverrides?: Record<string, unknown>;
  timeoutMs?: number;
}): Promise<LanguageHostRun> {
  const { config, secretKeys } = stackPulumiConfig({ stack: options.stack, configOverrides: options.configOverrides });
  const engine = await startFakeEngine({ project: PROJECT_NAME, stack: options.stack, dryRun: options.dryRun, region: config["aws:region"] ?? "us-east-1" });
  const args = [
    ...nodeArgs(),
    RUN_PATH,
    "--monitor", engine.address,
    "--engine", engine.address,
    "--organization", "organization",
    "--project", PROJECT_NAME,
    "--stack", options.stack,
    "--pwd", ROOT,
    ...(options.dryRun ? ["--dry-run"] : []),
    "--parallel", "16",
    ".",
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(languageHostConfig(config)),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
  };
  // vitest's own loader settings must not leak into the program's process.
  delete env.NODE_OPTIONS;
  const started = performance.now();
  try {
    return await new Promise<LanguageHostRun>((resolvePromise, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the program did not exit within ${options.timeoutMs ?? 120_000} ms\nstderr: ${stderr}`));
      }, options.timeoutMs ?? 120_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolvePromise({ code, stdout, stderr, engine, elapsedMs: performance.now() - started });
      });
    });
  } finally {
    await engine.stop();
  }
}
