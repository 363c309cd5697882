import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, it } from "vitest";
import { INBOUND_NAMESPACE, isOwnChannel, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { ensureLocalCertificate, type LocalCertificate } from "../../local/events/certificate.js";
import { REGION, startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";

const SUB = "55555555-eeee-4eee-8eee-555555555555";
const OTHER = "66666666-ffff-4fff-8fff-666666666666";
const PROBE = join(import.meta.dirname, "../../local/events/testing/amplify-probe.ts");

let dir: string;
let certificate: LocalCertificate;
let f: EventsFixture;
let probe: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "events-amplify-"));
  certificate = await ensureLocalCertificate(dir);
  const ca = await readFile(certificate.caCertPath, "utf8");
  f = await startEventsFixture({ tls: { key: certificate.key, cert: certificate.cert }, advertisedHost: "localhost" }, ca);
  f.behaviour.onSubscribe = (event) =>
    isOwnChannel(event.info.channel.segments, OUTBOUND_NAMESPACE, (event.identity as { sub?: string }).sub)
      ? null
      : { error: "You can only subscribe to your own channel." };
});

afterAll(async () => {
  if (probe && probe.exitCode === null) probe.kill("SIGKILL");
  await f?.close();
  await rm(dir, { recursive: true, force: true });
});

it("serves the unmodified Amplify v6 events client: subscribe, receive, publish over WebSocket and HTTP, refusal", async () => {
  const own = `/${OUTBOUND_NAMESPACE}/${SUB}`;
  const inbound = `/${INBOUND_NAMESPACE}/${SUB}`;
  probe = spawn(process.execPath, ["--import", "tsx", PROBE], {
    cwd: join(import.meta.dirname, "../.."),
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: certificate.caCertPath,
      PROBE_ENDPOINT: f.server.httpEndpoint,
      PROBE_REGION: REGION,
      PROBE_TOKEN: f.issuer.accessToken({ sub: SUB, username: "amplify-user" }),
      PROBE_OWN_CHANNEL: own,
      PROBE_INBOUND_CHANNEL: inbound,
      PROBE_FOREIGN_CHANNEL: `/${OUTBOUND_NAMESPACE}/${OTHER}`,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => probe!.on("exit", (code) => resolve(code)));
  const steps: Record<string, unknown>[] = [];
  for await (const line of createInterface({ input: probe.stdout! })) {
    if (!line.startsWith("{")) continue;
    const step = JSON.parse(line) as Record<string, unknown>;
    steps.push(step);
    if (step.step === "subscribed") {
      const res = await f.postSigned(JSON.stringify({ channel: own, events: [JSON.stringify({ type: "delta", text: "hi" })] }));
      expect(res.status).toBe(200);
    }
  }
  expect(await exited).toBe(0);
  expect(steps).toEqual([
    { step: "subscribed" },
    { step: "received", event: { type: "delta", text: "hi" } },
    { step: "published" },
    { step: "posted", failed: [] },
    { step: "refused", refusal: expect.stringContaining("UnauthorizedException") },
  ]);

  await f.server.idle();
  expect(f.server.publishedTo(inbound)).toEqual([
    { action: "chat", message: "hello over websocket" },
    { action: "chat", message: "hello over http" },
  ]);
  const published = f.invocations.filter((i) => i.handler === "onPublish").map((i) => i.event);
  expect(published.map((e) => e.identity)).toEqual([
    expect.objectContaining({ sub: SUB, username: "amplify-user" }),
    expect.objectContaining({ sub: SUB, username: "amplify-user" }),
  ]);
});
