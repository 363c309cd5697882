/**
 * The local TLS certificate: a private CA and a server certificate it signs for `localhost`,
 * `127.0.0.1` and `::1`, generated on first use under a given directory and reused afterwards
 * (regenerated when missing, unreadable, mismatched or about to expire). Node clients trust it
 * through `NODE_EXTRA_CA_CERTS=<caCertPath>` or a `ca:` option.
 *
 * The CA signs exactly one certificate and its private key is then dropped, never written:
 * a trusted CA whose key sits on disk would let anyone who reads it mint certificates for any
 * site (the CA carries no name constraints; the certificate library cannot write them). An
 * older start kept `ca.key`; finding one, the whole set is replaced and the key deleted, so
 * whoever trusted the old CA must trust the new `ca.crt` once more.
 */
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { generate } from "selfsigned";

export interface LocalCertificate {
  /** True when this call generated the set (first start, unusable or legacy files). */
  generated: boolean;
  /** Absolute path of the CA certificate (PEM) clients should trust. */
  caCertPath: string;
  /** Server private key (PEM). */
  key: string;
  /** Server certificate (PEM). */
  cert: string;
  keyPath: string;
  certPath: string;
}

const FILES = { caCert: "ca.crt", key: "server.key", cert: "server.crt" } as const;
/** Written by older versions; its presence means the set must be replaced. */
const LEGACY_CA_KEY = "ca.key";
const DAY_MS = 24 * 60 * 60 * 1000;
/** Below Apple's and Chrome's 398-day cap on server certificates, in case a browser is pointed at it. */
const SERVER_VALIDITY_DAYS = 390;
const CA_VALIDITY_DAYS = 3650;

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Writes through a temporary file so a crash never leaves half a PEM behind. */
async function writePem(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

function isUsable(caCert: string, cert: string, key: string): boolean {
  try {
    const ca = new X509Certificate(caCert);
    const server = new X509Certificate(cert);
    const freshUntil = Date.now() + DAY_MS;
    return (
      key.includes("PRIVATE KEY") &&
      server.verify(ca.publicKey) &&
      server.checkHost("localhost") !== undefined &&
      server.checkIP("127.0.0.1") !== undefined &&
      new Date(server.validTo).getTime() > freshUntil &&
      new Date(ca.validTo).getTime() > freshUntil
    );
  } catch {
    return false;
  }
}

async function generateCertificates(): Promise<{ caCert: string; key: string; cert: string }> {
  const now = new Date();
  const ca = await generate([{ name: "commonName", value: "AI Gateway local CA" }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  // ca.private goes out of scope here: nothing can sign with this CA again.
  return { caCert: ca.cert, key: server.private, cert: server.cert };
}

/** The certificate in `directory`, generating it first when there is no usable one. */
export async function ensureLocalCertificate(directory: string): Promise<LocalCertificate> {
  const dir = resolve(directory);
  const paths = { caCert: join(dir, FILES.caCert), key: join(dir, FILES.key), cert: join(dir, FILES.cert) };
  const legacyCaKey = join(dir, LEGACY_CA_KEY);
  const hasLegacyCaKey = await stat(legacyCaKey).then(() => true, () => false);
  const [caCert, cert, key] = await Promise.all([paths.caCert, paths.cert, paths.key].map(readIfPresent));
  if (!hasLegacyCaKey && caCert && cert && key && isUsable(caCert, cert, key)) {
    return { generated: false, caCertPath: paths.caCert, key, cert, keyPath: paths.key, certPath: paths.cert };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const fresh = await generateCertificates();
  await writePem(paths.key, fresh.key, 0o600);
  await writePem(paths.cert, fresh.cert, 0o644);
  await writePem(paths.caCert, fresh.caCert, 0o644);
  await rm(legacyCaKey, { force: true });
  return { generated: true, caCertPath: paths.caCert, key: fresh.key, cert: fresh.cert, keyPath: paths.key, certPath: paths.cert };
}
