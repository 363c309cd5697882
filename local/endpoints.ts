/**
 * `.local/endpoints.json`: how clients (tests, the web UI, your own scripts) find a running
 * local gateway. Its shape is the contract in DESIGN section 8; `webUrl` is the chat UI
 * (http://localhost:<port>), null when the gateway was started without it.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { DemoUser } from "./cognito.js";

export interface LocalEndpoints {
  region: string;
  /** The stack file the gateway runs (`Pulumi.<stack>.yaml`): its tiers and limits apply. */
  stack?: string;
  events: {
    /** Full URL ending in `/event`. */
    httpEndpoint: string;
    /** Full WebSocket URL (`wss://.../event/realtime`). */
    realtimeEndpoint: string;
    /** Absolute path of the CA certificate to trust (present when the Events server speaks TLS). */
    caCertPath?: string;
  };
  cognito: { endpoint: string; userPoolId: string; userPoolClientId: string };
  /** One demo user per tier. */
  users: DemoUser[];
  /** The chat UI's URL (`http://localhost:<port>`); null when started with `web: false`. */
  webUrl: string | null;
  /**
   * DynamoDB Local and the gateway's table names by logical name (`TableSchema.name`), for
   * operator tools such as `npm run gateway -- usage <user>`. Any credentials work.
   */
  dynamodb?: { endpoint: string; tables: Record<string, string> };
}

export const ENDPOINTS_FILE = "endpoints.json";

export async function writeEndpointsFile(path: string, endpoints: LocalEndpoints): Promise<string> {
  const text = `${JSON.stringify(endpoints, null, 2)}\n`;
  // Readers poll for this file; a rename means they never see half of it.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
  return text;
}

/** Removes the file only if it still describes this gateway (another one may have started since). */
export async function removeEndpointsFile(path: string, written: string): Promise<void> {
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === written) await rm(path, { force: true });
}
