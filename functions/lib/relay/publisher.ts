/**
 * Publishing events to an AppSync Events channel over HTTP, signed with SigV4 by the AWS SDK's
 * signer. Connections are kept alive (Node's fetch pools them); throttling and 5xx answers are
 * retried with capped, jittered backoff.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { OutboundEvent } from "../protocol/outbound.js";

export const MAX_EVENTS_PER_PUBLISH = 5;

export interface Publisher {
  publish(channel: string, events: readonly OutboundEvent[]): Promise<void>;
}

export class PublishError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "PublishError";
  }
}

export interface HttpPublisherOptions {
  /** `https://<HTTP host>/event` */
  endpoint: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  maxAttempts?: number;
  baseDelayMs?: number;
  /** One attempt's limit: a hung connection must not hold the answer until Lambda's timeout. */
  attemptTimeoutMs?: number;
  fetch?: typeof fetch;
}

export class HttpEventPublisher implements Publisher {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: HttpPublisherOptions) {
    this.url = new URL(options.endpoint);
    this.signer = new SignatureV4({ service: "appsync", region: options.region, credentials: options.credentials, sha256: Sha256 });
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
    this.fetch = options.fetch ?? fetch;
  }

  async publish(channel: string, events: readonly OutboundEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length > MAX_EVENTS_PER_PUBLISH) throw new PublishError(`at most ${MAX_EVENTS_PER_PUBLISH} events per publish`);
    const body = JSON.stringify({ channel, events: events.map((e) => JSON.stringify(e)) });
    for (let attempt = 1; ; attempt++) {
      let status: number | undefined;
      try {
        const response = await this.send(body);
        status = response.status;
        const text = await response.text();
        if (response.ok) {
          const failed = parseFailed(text);
          if (failed === 0) return;
          throw new PublishError(`${failed} of ${events.length} events were not accepted`, status);
        }
        if (status !== 429 && status < 500) throw new PublishError(`publish refused with HTTP ${status}`, status);
      } catch (err) {
        const retryable = !(err instanceof PublishError) || err.status === undefined || err.status === 429 || err.status >= 500;
        if (!retryable || attempt >= this.maxAttempts) {
          throw err instanceof PublishError ? err : new PublishError("publish failed: network error");
        }
      }
      if (attempt >= this.maxAttempts) throw new PublishError(`publish failed with HTTP ${status} after ${attempt} attempts`, status);
      await sleep(backoff(attempt, this.baseDelayMs));
    }
  }

  private async send(body: string): Promise<Response> {
    const request = new HttpRequest({
      method: "POST",
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path: this.url.pathname,
      headers: { host: this.url.host, "content-type": "application/json", accept: "application/json" },
      body,
    });
    const signed = await this.signer.sign(request);
    return this.fetch(this.url, { method: "POST", headers: signed.headers, body, signal: AbortSignal.timeout(this.attemptTimeoutMs) });
  }
}

function parseFailed(text: string): number {
  try {
    const parsed = JSON.parse(text) as { failed?: unknown[] };
    return Array.isArray(parsed.failed) ? parsed.failed.length : 0;
  } catch {
    return 0;
  }
}

/** Full jitter, capped at 2 s: a throttled API gets breathing room, a user waits little. */
function backoff(attempt: number, baseMs: number): number {
  return Math.random() * Math.min(2000, baseMs * 2 ** attempt);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
