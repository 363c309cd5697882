/**
 * The Bedrock Runtime client, created once per container. Local mode points it at the
 * Bedrock-compatible server (which speaks HTTP/2 like Bedrock, so the client is unchanged).
 */
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";

export function createBedrockClient(options: { endpoint?: string } = {}) {
  return new BedrockRuntimeClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // The worker owns retries: a throttled or unavailable model falls back along
    // `fallbackModels` at once, else the user is told and may resend the same requestId.
    maxAttempts: 1,
  });
}
