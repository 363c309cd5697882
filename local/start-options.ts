/** The command line of `npm start`: flags, defaults and usage text. */
import { parseArgs } from "node:util";
import type { LocalGatewayOptions, ModelMode } from "./gateway.js";

/** Well-known ports, so clients configured once keep working; 0 picks a free one. */
export const DEFAULT_PORTS = { events: 8443, cognito: 9229, dynamodb: 8000, bedrock: 0, firehose: 0, web: 8090 } as const;

export const USAGE = `Usage: npm start -- [options]

  --stack <name>         read Pulumi.<name>.yaml (default: dev)
  --model fake|bedrock   the local Bedrock-compatible server (default), or real Bedrock
                         with your default AWS credentials
  --persist              keep users and tables across restarts (in <state-dir>/persist)
  --state-dir <dir>      where endpoints.json, the TLS certificate and state live (default: .local)
  --events-port <n>      Events API, HTTPS + WSS (default: ${DEFAULT_PORTS.events})
  --cognito-port <n>     cognito-local (default: ${DEFAULT_PORTS.cognito})
  --dynamodb-port <n>    DynamoDB Local (default: ${DEFAULT_PORTS.dynamodb})
  --bedrock-port <n>     the model server (default: a free port)
  --firehose-port <n>    the local Firehose for analytics records (default: a free port)
  --web-port <n>         the chat UI, http://localhost:<n> (default: ${DEFAULT_PORTS.web})
  -h, --help             this text
Ports set to 0 are picked free.`;

export class UsageError extends Error {}

function portOption(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag} must be a port number (0-65535), got "${value}".`);
  return port;
}

export function parseStartArgs(argv: string[]): LocalGatewayOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      model: { type: "string" },
      persist: { type: "boolean" },
      "state-dir": { type: "string" },
      "events-port": { type: "string" },
      "cognito-port": { type: "string" },
      "dynamodb-port": { type: "string" },
      "bedrock-port": { type: "string" },
      "firehose-port": { type: "string" },
      "web-port": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const model = values.model ?? "fake";
  if (model !== "fake" && model !== "bedrock") throw new UsageError(`--model must be "fake" or "bedrock", got "${model}".`);
  return {
    stack: values.stack ?? "dev",
    model: model as ModelMode,
    persist: values.persist ?? false,
    stateDir: values["state-dir"],
    ports: {
      events: portOption(values["events-port"], DEFAULT_PORTS.events, "--events-port"),
      cognito: portOption(values["cognito-port"], DEFAULT_PORTS.cognito, "--cognito-port"),
      dynamodb: portOption(values["dynamodb-port"], DEFAULT_PORTS.dynamodb, "--dynamodb-port"),
      bedrock: portOption(values["bedrock-port"], DEFAULT_PORTS.bedrock, "--bedrock-port"),
      firehose: portOption(values["firehose-port"], DEFAULT_PORTS.firehose, "--firehose-port"),
      web: portOption(values["web-port"], DEFAULT_PORTS.web, "--web-port"),
    },
  };
}
