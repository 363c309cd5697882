import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policies } from "../../policies/policies.js";
import { ROOT } from "./stack-checks.js";

/**
 * What @pulumi/pulumi/cmd/run-policy-pack does before it requires the pack: register ts-node
 * (the project's, else Pulumi's vendored one) with type checking, CommonJS, nodenext.
 */
const LOAD_LIKE_THE_CLI = `
const tsutils = require(require.resolve("@pulumi/pulumi/tsutils", { paths: [process.cwd()] }));
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
require(tsnodeRequire).register({
  typeCheck: true,
  skipProject: !require("fs").existsSync("tsconfig.json"),
  compiler: typescriptRequire,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true" },
});
const pack = require(require("path").join(process.cwd(), "policies.ts"));
process.stdout.write(JSON.stringify(pack.policies.map((p) => p.name)));
`;

function run(cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["-e", LOAD_LIKE_THE_CLI], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

describe("the policy pack as the Pulumi CLI loads it", () => {
  it("compiles and loads as CommonJS under ts-node with type checking", async () => {
    const result = await run(join(ROOT, "policies"));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(policies.map((p) => p.name));
  }, 120_000);
});
