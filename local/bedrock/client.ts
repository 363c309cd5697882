/**
 * A Bedrock Runtime client aimed at the local fake, with dummy credentials. The fake speaks both
 * HTTP/2 (the SDK default) and HTTP/1.1; `protocol: "http1"` swaps in a `NodeHttpHandler`,
 * which is what a client factory that injects a request handler would do.
 */
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface LocalBedrockClientOptions {
  /** @default "http2" */
  protocol?: "http1" | "http2";
  /** SDK attempts per call; 1 surfaces faults without the SDK's retry backoff. @default SDK default (3) */
  maxAttempts?: number;
  /** @default "us-east-1" */
  region?: string;
}

export function createLocalBedrockClient(endpoint: string, options: LocalBedrockClientOptions = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint,
    region: options.region ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.protocol === "http1" ? { requestHandler: new NodeHttpHandler() } : {}),
  });
}
