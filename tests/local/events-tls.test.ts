import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { ensureLocalCertificate, type LocalCertificate } from "../../local/events/certificate.js";
import { sendHttp, startEventsFixture, type EventsFixture } from "../../local/events/testing/fixture.js";
import { cognitoHeaders, RawEventsClient } from "../../local/events/testing/raw-client.js";

const SUB = "44444444-dddd-4ddd-8ddd-444444444444";
const OUT = `/${OUTBOUND_NAMESPACE}/${SUB}`;

let dir: string;
let certificate: LocalCertificate;
let ca: string;
let f: EventsFixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "events-tls-"));
  certificate = await ensureLocalCertificate(join(dir, "certs"));
  ca = await readFile(certificate.caCertPath, "utf8");
  f = await startEventsFixture({ tls: { key: certificate.key, cert: certificate.cert }, advertisedHost: "localhost" }, ca);
});

afterAll(async () => {
  await f?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("local certificate", () => {
  it("is generated once under the given directory and reused afterwards", async () => {
    expect(isAbsolute(certificate.caCertPath)).toBe(true);
    const again = await ensureLocalCertificate(join(dir, "certs"));
    expect(again.cert).toBe(certificate.cert);
    expect(again.key).toBe(certificate.key);
    expect(await readFile(again.certPath, "utf8")).toBe(certificate.cert);
  });

  it("keeps no CA private key: only the CA certificate and the server's own key and certificate, the key owner-only", async () => {
    const files = (await readdir(join(dir, "certs"))).sort();
    expect(files).toEqual(["ca.crt", "server.crt", "server.key"]);
    for (const file of files) expect(await readFile(join(dir, "certs", file), "utf8")).not.toContain("CA PRIVATE");
    expect((await stat(certificate.keyPath)).mode & 0o077).toBe(0);
    expect((await stat(join(dir, "certs"))).mode & 0o077).toBe(0);
    expect(new X509Certificate(certificate.cert).verify(new X509Certificate(ca).publicKey)).toBe(true);
  });

  it("replaces a set left by an older start that kept the CA key, and deletes that key", async () => {
    const legacy = join(dir, "legacy");
    const first = await ensureLocalCertificate(legacy);
    const firstCa = await readFile(first.caCertPath, "utf8");
    await writeFile(join(legacy, "ca.key"), "-----BEGIN PRIVATE KEY-----\nold\n-----END PRIVATE KEY-----\n");
    const second = await ensureLocalCertificate(legacy);
    expect(second.generated).toBe(true);
    expect(await readFile(second.caCertPath, "utf8")).not.toBe(firstCa);
    expect(second.cert).not.toBe(first.cert);
    expect((await readdir(legacy)).sort()).toEqual(["ca.crt", "server.crt", "server.key"]);
    expect((await ensureLocalCertificate(legacy)).generated).toBe(false);
  });

  it("is regenerated when its files are unusable", async () => {
    const other = join(dir, "broken");
    const first = await ensureLocalCertificate(other);
    await rm(first.certPath);
    const second = await ensureLocalCertificate(other);
    expect(second.cert).not.toBe(first.cert);
  });
});

describe("TLS", () => {
  it("serves https and wss endpoints that Amplify can derive (wss://<host>/event/realtime)", () => {
    const http = new URL(f.server.httpEndpoint);
    expect(http.protocol).toBe("https:");
    expect(f.server.realtimeEndpoint).toBe(`wss://${http.host}/event/realtime`);
  });

  it("carries the WebSocket protocol over wss for a client trusting the generated CA", async () => {
    const token = f.issuer.accessToken({ sub: SUB });
    const client = await RawEventsClient.connect(f.server.realtimeEndpoint, cognitoHeaders(f.server.httpEndpoint, token), { ca });
    try {
      expect((await client.init()).type).toBe("connection_ack");
      const { id, reply } = await client.subscribe(OUT, cognitoHeaders(f.server.httpEndpoint, token));
      expect(reply.type).toBe("subscribe_success");
      const res = await f.postSigned(JSON.stringify({ channel: OUT, events: [JSON.stringify({ secure: true })] }));
      expect(res.status).toBe(200);
      expect(await client.nextEvent(id)).toEqual({ secure: true });
    } finally {
      await client.close();
    }
  });

  it("is refused by a client that does not trust the generated CA", async () => {
    await expect(sendHttp(new URL(f.server.httpEndpoint), "{}", {})).rejects.toThrow(/certificate/i);
  });

  it("is trusted by a Node process started with NODE_EXTRA_CA_CERTS pointing at the CA file", async () => {
    const script = `fetch(${JSON.stringify(f.server.httpEndpoint)}, { method: "OPTIONS" }).then((r) => console.log(r.status))`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certificate.caCertPath },
    });
    expect(stdout.trim()).toBe("204");
  });
});
