/**
 * The Bedrock Runtime client, created once per container. Local mode points it at the
 * Bedrock-compatible server (which speaks HTTP/2 like Bedrock, so the client is unchanged).
 */
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";

export function createBedrockClient(options: { endpoint?: string } = {}) {
  return new BedrockRuntimeClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // The worker owns retries: a throttled call is reported to the user, not retried for minutes.
    maxAttempts: 2,
  });
}
