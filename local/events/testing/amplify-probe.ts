/**
 * Drives the unmodified Amplify v6 `events` client against an Events server, in its own Node
 * process so it trusts the local CA the documented way (NODE_EXTRA_CA_CERTS). It signs in with
 * a given access token (a token provider stands in for Amplify Auth) and reports each step as
 * one JSON line on stdout. Inputs, all required, come from the environment:
 * PROBE_ENDPOINT, PROBE_REGION, PROBE_TOKEN, PROBE_OWN_CHANNEL, PROBE_INBOUND_CHANNEL,
 * PROBE_FOREIGN_CHANNEL. Steps: subscribe to the own channel and wait for one event (the test
 * publishes it), publish over WebSocket and post over HTTP to the inbound channel, then try a
 * foreign channel and report the refusal.
 */
import { Amplify } from "aws-amplify";
import { events } from "aws-amplify/data";
import { decodeJWT } from "@aws-amplify/core";
import { WebSocket } from "ws";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const report = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const describe = (error: unknown) => JSON.stringify((error as { errors?: unknown })?.errors ?? String(error));

// Node 20 has no global WebSocket; Amplify expects the browser API, which `ws` provides.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

async function main(): Promise<void> {
  const token = env("PROBE_TOKEN");
  Amplify.configure(
    { API: { Events: { endpoint: env("PROBE_ENDPOINT"), region: env("PROBE_REGION"), defaultAuthMode: "userPool" } } },
    { Auth: { tokenProvider: { getTokens: async () => ({ accessToken: decodeJWT(token) }) } } },
  );

  const own = await events.connect(env("PROBE_OWN_CHANNEL"));
  let subscription: ReturnType<typeof own.subscribe> | undefined;
  const received = new Promise<unknown>((resolve, reject) => {
    subscription = own.subscribe({ next: (message) => resolve(message.event), error: reject });
  });
  // `ready` resolves on subscribe_success; the test publishes only after this line.
  await subscription!.ready;
  report({ step: "subscribed" });
  report({ step: "received", event: await received });

  const inbound = await events.connect(env("PROBE_INBOUND_CHANNEL"));
  await inbound.publish({ action: "chat", message: "hello over websocket" });
  report({ step: "published" });
  const failed = await events.post(env("PROBE_INBOUND_CHANNEL"), { action: "chat", message: "hello over http" });
  report({ step: "posted", failed: failed ?? [] });

  const foreign = await events.connect(env("PROBE_FOREIGN_CHANNEL"));
  const refusal = await new Promise<string>((resolve) => {
    foreign.subscribe({ next: () => resolve("unexpected data"), error: (error: unknown) => resolve(describe(error)) });
  });
  report({ step: "refused", refusal });

  await Promise.all([own.close(), inbound.close(), foreign.close()]);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    report({ step: "failed", error: describe(error) });
    process.exit(1);
  },
);
