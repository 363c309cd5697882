/** The short text `npm start` prints once the gateway is up. */
import { relative } from "node:path";
import type { LocalGateway, LocalGatewayOptions } from "./gateway.js";

/** The banner's last line; tools waiting for the gateway can watch for it. */
export const READY_LINE = "Ready. Press Ctrl-C to stop (every server and child process stops with it).";

export function formatBanner(gateway: LocalGateway, options: Pick<LocalGatewayOptions, "persist">): string {
  const { endpoints } = gateway;
  const shown = (path: string) => (relative(process.cwd(), path).startsWith("..") ? path : relative(process.cwd(), path));
  const model =
    gateway.model === "fake"
      ? `local Bedrock-compatible server (${gateway.bedrock?.url}); steer it with [[fake:tokens=N,rate=R,...]]`
      : `real Bedrock in ${gateway.region} with your AWS credentials`;
  const width = Math.max(...endpoints.users.map((u) => u.username.length));
  const lines = [
    "",
    `AI gateway, local mode: stack "${gateway.stack}" (${gateway.region})`,
    ...(endpoints.webUrl ? [`  Chat UI       ${endpoints.webUrl}  (open it in a browser; sign in as a demo user)`] : []),
    `  Events API    ${endpoints.events.httpEndpoint}`,
    `  Realtime      ${endpoints.events.realtimeEndpoint}`,
    ...(endpoints.events.caCertPath
      ? [`  CA file       ${endpoints.events.caCertPath}  (Node clients: NODE_EXTRA_CA_CERTS=<this file>)`]
      : []),
    `  Cognito       ${endpoints.cognito.endpoint}  pool ${endpoints.cognito.userPoolId}  client ${endpoints.cognito.userPoolClientId}`,
    `  DynamoDB      ${gateway.dynamodb.endpoint}`,
    `  Model         ${model}`,
    ...(gateway.firehose
      ? [`  Analytics     ${gateway.firehose.endpoint} -> ${shown(gateway.firehose.dir)}  (npm run analytics -- --list)`]
      : []),
    `  Demo users    ${endpoints.users.map((u) => `${u.username.padEnd(width)}  ${u.password}  (tier ${u.tier})`).join("\n                ")}`,
    `  Endpoints     ${shown(gateway.endpointsFile)}`,
    `  State         ${options.persist ? "persisted across restarts (--persist)" : "fresh on every start (add --persist to keep it)"}`,
    "",
    READY_LINE,
  ];
  return lines.join("\n");
}
