/**
 * Cognito-compatible identity for local mode: cognito-local as a child process on loopback
 * (its signing key is public, so it must never listen elsewhere), and the user pool the
 * Identity component would create: email sign-in, the same password policy, one public app
 * client, one group per tier, plus one demo user per tier with a known password.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { tierGroupPrecedence } from "../functions/lib/routing/tier.js";
import { LOCAL_CREDENTIALS } from "./dynamodb.js";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";

const require = createRequire(import.meta.url);
const COGNITO_LOCAL_BIN = require.resolve("cognito-local/lib/bin/start.js");
const READY_LINE = /Cognito Local running on (http:\/\/\S+)/;
const STARTUP_TIMEOUT_MS = 60_000;

/** The demo users' password; it meets the Identity component's policy (12+, all four classes). */
const DEMO_PASSWORD = "Local-Demo-Passw0rd!";
const APP_CLIENT_NAME = "web";

export interface CognitoLocal {
  /** `http://127.0.0.1:<port>`: the `userPoolEndpoint` for Amplify and the SDK's `endpoint`. */
  endpoint: string;
  port: number;
  pid: number;
  client: CognitoIdentityProviderClient;
  stop(): Promise<void>;
}

export interface DemoUser {
  username: string;
  password: string;
  tier: string;
}

export interface LocalUserPool {
  userPoolId: string;
  userPoolClientId: string;
  /** The `iss` of the pool's tokens: `<endpoint>/<userPoolId>`. */
  issuer: string;
  users: DemoUser[];
}

/**
 * Starts cognito-local with `dataDir` as its working directory (it keeps its state in
 * `<dataDir>/.cognito`). Resolves once it listens.
 */
export async function startCognitoLocal(options: { dataDir: string; port?: number; region?: string }): Promise<CognitoLocal> {
  await mkdir(options.dataDir, { recursive: true });
  if (options.port) return startOn(options.port, options);
  // A free port can be taken by another process before cognito-local binds it (tests start
  // many servers at once): pick another one then, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), options);
    } catch (err) {
      if (!(err as Error).message.includes("EADDRINUSE") || attempt === 3) throw err;
    }
  }
}

async function startOn(port: number, options: { dataDir: string; region?: string }): Promise<CognitoLocal> {
  const host = "127.0.0.1";
  const child = spawn(process.execPath, [COGNITO_LOCAL_BIN], {
    cwd: options.dataDir,
    // HOST also sets the issuer's host (`http://127.0.0.1:<port>/<poolId>`).
    env: { ...process.env, PORT: String(port), HOST: host, DEBUG: "", COGNITO_LOCAL_DEVMODE: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stopProcess = async () => {
    process.removeListener("exit", killOnExit);
    await stopChild(child);
  };
  try {
    await waitUntilListening(child);
  } catch (err) {
    await stopProcess();
    throw err;
  }
  const endpoint = `http://${host}:${port}`;
  const client = new CognitoIdentityProviderClient({ endpoint, region: options.region ?? "us-east-1", credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    port,
    pid: child.pid!,
    client,
    stop: async () => {
      client.destroy();
      await stopProcess();
    },
  };
}

/** Resolves on cognito-local's "running on" line; rejects with its output if it exits first. */
function waitUntilListening(child: ChildProcess): Promise<void> {
  let output = "";
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`cognito-local did not start within ${STARTUP_TIMEOUT_MS / 1000} s.`), STARTUP_TIMEOUT_MS);
    const onData = (data: Buffer) => {
      output = (output + data.toString()).slice(-4000);
      if (!READY_LINE.test(output)) return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null) => fail(`cognito-local exited (code ${code}) while starting.`);
    const cleanup = () => {
      clearTimeout(timer);
      child.off("exit", onExit);
      // Keep draining its request log so a full pipe never blocks it.
      child.stdout?.off("data", onData).resume();
      child.stderr?.off("data", onData).resume();
    };
    const fail = (message: string) => {
      cleanup();
      reject(new Error(`${message}\n${output.trim()}`));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** `pro` -> `pro@example.com`: the pool signs in by email, like the deployed one. */
const demoUsername = (tier: string) => `${tier.toLowerCase().replace(/[^a-z0-9.-]/g, "-")}@example.com`;

/**
 * Creates the pool, client, tier groups and demo users, or reuses the ones a persisted
 * cognito-local already holds (found by name); either way the demo passwords are (re)set.
 */
export async function provisionUserPool(
  cognito: Pick<CognitoLocal, "client" | "endpoint">,
  options: { poolName: string; tiers: GatewayConfig["tiers"] },
): Promise<LocalUserPool> {
  const { client } = cognito;
  const userPoolId = await findOrCreatePool(client, options.poolName);
  const userPoolClientId = await findOrCreateAppClient(client, userPoolId);
  const users: DemoUser[] = [];
  for (const [tier, { priority }] of Object.entries(options.tiers)) {
    // CreateGroup overwrites an existing group in cognito-local, so it is safe on every start.
    await client.send(
      new CreateGroupCommand({
        UserPoolId: userPoolId,
        GroupName: tier,
        Precedence: tierGroupPrecedence(priority),
        Description: `Gateway tier "${tier}" (priority ${priority})`,
      }),
    );
    const user: DemoUser = { username: demoUsername(tier), password: DEMO_PASSWORD, tier };
    await ensureUser(client, userPoolId, user.username, user.password);
    await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: user.username, GroupName: tier }));
    users.push(user);
  }
  return { userPoolId, userPoolClientId, issuer: `${cognito.endpoint}/${userPoolId}`, users };
}

/** Creates a confirmed user with a permanent password (or resets the password of an existing one). */
export async function ensureUser(client: CognitoIdentityProviderClient, userPoolId: string, username: string, password: string) {
  try {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: username },
          { Name: "email_verified", Value: "true" },
        ],
      }),
    );
  } catch (err) {
    if ((err as Error).name !== "UsernameExistsException") throw err;
  }
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: username, Password: password, Permanent: true }));
}

async function findOrCreatePool(client: CognitoIdentityProviderClient, poolName: string): Promise<string> {
  const existing = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  const found = existing.UserPools?.find((pool) => pool.Name === poolName)?.Id;
  if (found) return found;
  const created = await client.send(
    new CreateUserPoolCommand({
      PoolName: poolName,
      UsernameAttributes: ["email"],
      AutoVerifiedAttributes: ["email"],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
    }),
  );
  return created.UserPool!.Id!;
}

async function findOrCreateAppClient(client: CognitoIdentityProviderClient, userPoolId: string): Promise<string> {
  const existing = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  const found = existing.UserPoolClients?.find((c) => c.ClientName === APP_CLIENT_NAME)?.ClientId;
  if (found) return found;
  const created = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: APP_CLIENT_NAME,
      GenerateSecret: false,
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    }),
  );
  return created.UserPoolClient!.ClientId!;
}
