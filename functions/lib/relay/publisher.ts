/**
 * Publishing events to an AppSync Events channel over HTTP, signed with SigV4 by the AWS SDK's
 * signer (hashing on node:crypto). Requests go through node:http/https with keep-alive agents,
 * so a turn's publishes share one connection (TLS handshake once per container, not per
 * publish), without the per-request streams and abort signals of `fetch`. Throttling, 5xx
 * answers and network errors are retried with capped, jittered backoff; a kept-alive
 * connection the server closed while idle (a frozen Lambda container) is retried at once.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { OutboundEvent } from "../protocol/outbound.js";
import { NodeSha256 } from "./sha256.js";

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
  /** Waits `ms` between attempts (tests observe the backoff through it). @default setTimeout */
  wait?: (ms: number) => Promise<void>;
}

/** What one attempt got back. */
interface Reply {
  status: number;
  text: string;
}

/** A network failure of one attempt; `stale` when it hit a kept-alive connection the server had closed. */
class NetworkFailure extends Error {
  constructor(readonly stale: boolean) {
    super("network error");
  }
}

export class HttpEventPublisher implements Publisher {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly request: typeof httpRequest;

  constructor(options: HttpPublisherOptions) {
    this.url = new URL(options.endpoint);
    this.signer = new SignatureV4({ service: "appsync", region: options.region, credentials: options.credentials, sha256: NodeSha256 });
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
    this.wait = options.wait ?? sleep;
    const https = this.url.protocol === "https:";
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.request = https ? httpsRequest : httpRequest;
  }

  async publish(channel: string, events: readonly OutboundEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length > MAX_EVENTS_PER_PUBLISH) throw new PublishError(`at most ${MAX_EVENTS_PER_PUBLISH} events per publish`);
    const body = JSON.stringify({ channel, events: events.map((e) => JSON.stringify(e)) });
    for (let attempt = 1; ; attempt++) {
      let reply: Reply | undefined;
      let stale = false;
      try {
        reply = await this.send(body);
      } catch (err) {
        // No answer (network error, attempt timed out): worth another attempt while there are some.
        if (attempt >= this.maxAttempts) throw new PublishError("publish failed: network error");
        stale = err instanceof NetworkFailure && err.stale;
      }
      if (reply) {
        const { status } = reply;
        if (status >= 200 && status < 300) {
          const failed = parseFailed(reply.text);
          if (failed === 0) return;
          throw new PublishError(`${failed} of ${events.length} events were not accepted`, status);
        }
        // Throttling and server errors are retried; any other answer is a refusal.
        if (status !== 429 && status < 500) throw new PublishError(`publish refused with HTTP ${status}`, status);
        if (attempt >= this.maxAttempts) throw new PublishError(`publish failed with HTTP ${status} after ${attempt} attempts`, status);
      }
      // A stale connection says nothing about the server: the next attempt opens a fresh one now.
      if (!stale) await this.wait(backoff(attempt, this.baseDelayMs));
    }
  }

  /** Closes idle kept-alive connections (a process that is about to exit). */
  destroy(): void {
    this.agent.destroy();
  }

  private async send(body: string): Promise<Reply> {
    const request = new HttpRequest({
      method: "POST",
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path: this.url.pathname,
      headers: { host: this.url.host, "content-type": "application/json", accept: "application/json", "content-length": String(Buffer.byteLength(body)) },
      body,
    });
    const signed = await this.signer.sign(request);
    return new Promise<Reply>((resolve, reject) => {
      const req = this.request(this.url, { method: "POST", headers: signed.headers, agent: this.agent });
      let settled = false;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error("publish attempt timed out"));
      }, this.attemptTimeoutMs);
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (err?: NodeJS.ErrnoException) =>
        settle(() => reject(new NetworkFailure(req.reusedSocket && !timedOut && (err?.code === "ECONNRESET" || err?.code === "EPIPE"))));
      req.once("error", fail);
      req.once("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("error", fail);
        res.once("end", () => settle(() => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") })));
        // A response cut off before its end is a failed attempt.
        res.once("close", () => fail());
      });
      req.end(body);
    });
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
