/**
 * `npm run gateway -- <command>`: operator commands against the local gateway (default) or a
 * deployed stack (`--stack <name>`, with your AWS credentials). See docs/metering.md.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CacheCommandError, runCacheCommand } from "./cache.js";
import { resolveTarget, TargetError, type GatewayTarget } from "./target.js";
import { runTierCommand } from "./tier.js";
import { runUsageCommand } from "./usage.js";

type Command = (target: GatewayTarget, argv: string[], print: (line: string) => void) => Promise<void>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  usage: { run: runUsageCommand, summary: "usage <user>          a user's token usage against every limit of their tier" },
  tier: { run: runTierCommand, summary: "tier <user> <tier>    move a user to a tier (Cognito groups)" },
  cache: {
    run: async (target, argv, print) => {
      const code = await runCacheCommand({ ...target, print }, argv);
      if (code !== 0) throw new CacheCommandError(`cache ${argv[0] ?? ""} failed`);
    },
    summary: "cache put|list|delete  prepared responses (cache put --prompt <text> --response <text> [--model <id>] [--ttl-days N])",
  },
};

const HELP = `Usage: npm run gateway -- <command> [arguments] [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.summary}`)
  .join("\n")}

A <user> is an e-mail address, a username or a sub.

Options:
  --stack <name>          act on a deployed stack with your AWS credentials
                          (default: the local gateway of \`npm start\`)
  --usage-table <name>    the stack's usage table     (default: \`pulumi stack output usageTableName\`)
  --user-pool-id <id>     the stack's user pool       (default: \`pulumi stack output userPoolId\`)
  --region <region>       the stack's region          (default: its outputs, then its stack file)
  --state-dir <dir>       where the local gateway's endpoints.json is (default: .local)
  -h, --help              this text
`;

export async function main(args: string[], print: (line: string) => void = console.log): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (values.help || !name) {
    print(HELP);
    return values.help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${HELP}`);
    return 2;
  }
  let target: GatewayTarget | undefined;
  try {
    target = await resolveTarget({
      stack: values.stack,
      stateDir: values["state-dir"],
      usageTable: values["usage-table"],
      cacheTable: values["cache-table"],
      userPoolId: values["user-pool-id"],
      region: values.region,
    });
    await command.run(target, rest, print);
    return 0;
  } catch (err) {
    if (err instanceof TargetError || err instanceof CacheCommandError) console.error(err.message);
    else console.error(`${name} failed: ${(err as Error).name}: ${(err as Error).message}`);
    return 1;
  } finally {
    target?.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      "usage-table": { type: "string" },
      "cache-table": { type: "string" },
      "user-pool-id": { type: "string" },
      region: { type: "string" },
      "state-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = await main(process.argv.slice(2));
