/**
 * SHA-256 and HMAC-SHA-256 for the SDK's SigV4 signer, on node:crypto (OpenSSL) instead of the
 * SDK's pure-JavaScript `@aws-crypto/sha256-js`: every relay publish is signed, and the native
 * hash costs a fraction of the CPU (docs/performance.md), which Lambda bills.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { Checksum, SourceData } from "@smithy/types";

const bytes = (data: SourceData): Buffer | string =>
  typeof data === "string" ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(chunk: Uint8Array | string): void {
    this.hash.update(bytes(chunk));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.secret));
  }
}
