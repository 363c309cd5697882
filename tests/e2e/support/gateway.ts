/**
 * End-to-end helpers: a local gateway started through `npm start`'s own code path
 * (startLocalGateway) on free ports with its state in a temporary directory, Cognito sign-in
 * with the real SDK, and chats over the raw AppSync Events WebSocket protocol.
 */
import { CognitoIdentityProviderClient, InitiateAuthCommand } from "@aws-sdk/client-cognito-identity-provider";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OutboundEvent } from "../../../functions/lib/protocol/outbound.js";
import { ensureUser } from "../../../local/cognito.js";
import type { LocalEndpoints } from "../../../local/endpoints.js";
import { LOCAL_CREDENTIALS } from "../../../local/dynamodb.js";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "../../../local/gateway.js";
import { type AuthHeaders, cognitoHeaders, RawEventsClient } from "../../../local/events/testing/raw-client.js";

/** What a client needs to reach a local gateway: its endpoints.json and the CA to trust. */
export interface GatewayTarget {
  endpoints: LocalEndpoints;
  /** The local CA (PEM) that clients in this process pass as `ca`. */
  ca: string;
}

export interface TestGateway extends GatewayTarget {
  gateway: LocalGateway;
  stateDir: string;
  close(): Promise<void>;
}

export async function startTestGateway(options: LocalGatewayOptions = {}): Promise<TestGateway> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "gateway-e2e-")));
  const gateway = await startLocalGateway({ stack: "dev", model: "fake", ...options, stateDir });
  const ca = await readFile(gateway.endpoints.events.caCertPath!, "utf8");
  return {
    gateway,
    endpoints: gateway.endpoints,
    ca,
    stateDir,
    close: async () => {
      await gateway.stop();
      if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export interface SignedInUser {
  sub: string;
  accessToken: string;
  idToken: string;
}

const cognitoClients = new WeakMap<LocalEndpoints, CognitoIdentityProviderClient>();

export function cognitoClient({ endpoints }: GatewayTarget): CognitoIdentityProviderClient {
  let client = cognitoClients.get(endpoints);
  if (!client) {
    client = new CognitoIdentityProviderClient({ endpoint: endpoints.cognito.endpoint, region: endpoints.region, credentials: LOCAL_CREDENTIALS });
    cognitoClients.set(endpoints, client);
  }
  return client;
}

export async function signIn(target: GatewayTarget, username: string, password: string): Promise<SignedInUser> {
  const result = await cognitoClient(target).send(
    new InitiateAuthCommand({
      ClientId: target.endpoints.cognito.userPoolClientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  const accessToken = result.AuthenticationResult!.AccessToken!;
  return { sub: claimsOf(accessToken).sub as string, accessToken, idToken: result.AuthenticationResult!.IdToken! };
}

export async function signInDemoUser(target: GatewayTarget, tier = "default"): Promise<SignedInUser> {
  const user = target.endpoints.users.find((u) => u.tier === tier)!;
  return signIn(target, user.username, user.password);
}

/** Creates a user in the gateway's pool (no group: the default tier) and signs it in. */
export async function createUser(target: GatewayTarget, username: string): Promise<SignedInUser> {
  const password = "Test-User-Passw0rd!";
  await ensureUser(cognitoClient(target), target.endpoints.cognito.userPoolId, username, password);
  return signIn(target, username, password);
}

export const claimsOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

export const authHeaders = (target: GatewayTarget, token: string): AuthHeaders =>
  cognitoHeaders(target.endpoints.events.httpEndpoint, token);

/** A raw client, connected and acknowledged, with its user's token on the connection. */
export async function connectRaw(target: GatewayTarget, token: string): Promise<RawEventsClient> {
  const client = await RawEventsClient.connect(target.endpoints.events.realtimeEndpoint, authHeaders(target, token), { ca: target.ca });
  const ack = await client.init();
  if (ack.type !== "connection_ack") throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
  return client;
}

export const chatPayload = (message: string, extra: Record<string, unknown> = {}) => ({
  action: "chat",
  requestId: randomUUID(),
  conversationId: randomUUID(),
  message,
  ...extra,
});

/** The events of one request on a subscription, up to and including `done` or `error`. */
export async function answerOf(client: RawEventsClient, subscriptionId: string, requestId: string): Promise<OutboundEvent[]> {
  const events: OutboundEvent[] = [];
  for (;;) {
    const message = await client.next((m) => m.type === "data" && m.id === subscriptionId && JSON.parse(m.event as string).requestId === requestId);
    const event = JSON.parse(message.event as string) as OutboundEvent;
    events.push(event);
    if (event.type === "done" || event.type === "error") return events;
  }
}

/** Subscribes to the user's outbound channel, publishes one chat over the WebSocket, returns the answer. */
export async function chatOnce(target: GatewayTarget, user: SignedInUser, message: string): Promise<OutboundEvent[]> {
  const client = await connectRaw(target, user.accessToken);
  try {
    const headers = authHeaders(target, user.accessToken);
    const { id, reply } = await client.subscribe(`/Outbound-Messages/${user.sub}`, headers);
    if (reply.type !== "subscribe_success") throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
    const payload = chatPayload(message);
    const published = await client.publish(`/Inbound-Messages/${user.sub}`, [payload], headers);
    if (published.type !== "publish_success") throw new Error(`publish failed: ${JSON.stringify(published)}`);
    return await answerOf(client, id, payload.requestId);
  } finally {
    await client.close();
  }
}

/** Every process below `pid`, from /proc (Linux). */
export async function descendantPids(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined);
    // Field 4 is the parent pid; the command name in parentheses may contain spaces.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) : NaN;
    if (Number.isInteger(ppid)) parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const child of parents.get(parent) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
