/**
 * A Node client built only from Amplify v6's public API, as an app developer would write it:
 * Amplify Auth signs in against cognito-local (USER_PASSWORD_AUTH), the `events` client
 * subscribes to the user's outbound channel and chats twice, once publishing over the
 * WebSocket and once posting over HTTP. Runs in its own process because Node trusts the local
 * CA only through NODE_EXTRA_CA_CERTS, read at start-up.
 *
 * Input (env): GATEWAY_ENDPOINTS (path of endpoints.json), CHAT_USERNAME, CHAT_PASSWORD.
 * Output: one JSON line per step on stdout; exit code 0 when every step succeeded.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Amplify } from "aws-amplify";
import { fetchAuthSession, signIn } from "aws-amplify/auth";
import { events } from "aws-amplify/data";
import { WebSocket } from "ws";
import type { LocalEndpoints } from "../../../local/endpoints.js";

// Node 20 has no global WebSocket; Amplify expects the browser API, which `ws` provides.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const report = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
type Outbound = { type: string; requestId: string; seq: number; [key: string]: unknown };

async function main(): Promise<void> {
  const endpoints = JSON.parse(readFileSync(process.env.GATEWAY_ENDPOINTS!, "utf8")) as LocalEndpoints;
  Amplify.configure({
    API: { Events: { endpoint: endpoints.events.httpEndpoint, region: endpoints.region, defaultAuthMode: "userPool" } },
    Auth: {
      Cognito: {
        userPoolId: endpoints.cognito.userPoolId,
        userPoolClientId: endpoints.cognito.userPoolClientId,
        userPoolEndpoint: endpoints.cognito.endpoint,
      },
    },
  });

  const signedIn = await signIn({
    username: process.env.CHAT_USERNAME!,
    password: process.env.CHAT_PASSWORD!,
    options: { authFlowType: "USER_PASSWORD_AUTH" },
  });
  const sub = (await fetchAuthSession()).tokens?.accessToken.payload.sub as string;
  report({ step: "signedIn", isSignedIn: signedIn.isSignedIn, sub });

  const received: Outbound[] = [];
  const waiters: { requestId: string; resolve: (events: Outbound[]) => void }[] = [];
  const outbound = await events.connect(`/Outbound-Messages/${sub}`);
  const subscription = outbound.subscribe({
    next: (message: { event: Outbound }) => {
      received.push(message.event);
      if (message.event.type !== "done" && message.event.type !== "error") return;
      const waiter = waiters.find((w) => w.requestId === message.event.requestId);
      waiter?.resolve(received.filter((e) => e.requestId === waiter.requestId));
    },
    error: (error: unknown) => report({ step: "subscriptionError", error: JSON.stringify(error) }),
  });
  await subscription.ready;
  report({ step: "subscribed" });

  const answerTo = (requestId: string) => new Promise<Outbound[]>((resolve) => waiters.push({ requestId, resolve }));
  const chat = (requestId: string, message: string) => ({ action: "chat", requestId, conversationId: randomUUID(), message });

  const overWebSocket = randomUUID();
  const inbound = await events.connect(`/Inbound-Messages/${sub}`);
  const firstAnswer = answerTo(overWebSocket);
  await inbound.publish(chat(overWebSocket, "Hello over the WebSocket [[fake:tokens=6]]"));
  report({ step: "answered", via: "websocket", events: await firstAnswer });

  const overHttp = randomUUID();
  const secondAnswer = answerTo(overHttp);
  await events.post(`/Inbound-Messages/${sub}`, chat(overHttp, "Hello over HTTP [[fake:tokens=4]]"));
  report({ step: "answered", via: "http", events: await secondAnswer });

  subscription.unsubscribe();
  await Promise.all([outbound.close(), inbound.close()]);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    report({ step: "failed", error: error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error) });
    process.exit(1);
  },
);
