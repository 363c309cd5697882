/**
 * The Bedrock-compatible model server for local mode and tests. Start it with
 * `startBedrockServer()`, point a Bedrock Runtime client at `server.url`, and steer the model
 * with `server.configure(...)` or `[[fake:...]]` directives (grammar: behaviour.ts).
 */
export { startBedrockServer } from "./server.js";
export type { BedrockServer, BedrockServerConfig, BedrockServerOptions, RecordedRequest } from "./server.js";
export type { RequestOutcome } from "./respond.js";
export { FAULTS, STREAM_ERRORS, DEFAULT_BEHAVIOUR, MAX_FAKE_TOKENS, parseDirectives } from "./behaviour.js";
export type { AnswerContext, Fault, FakeBehaviour, StreamError } from "./behaviour.js";
export { fakeAnswer, splitTokens, estimateInputTokens } from "./answer.js";
export { DEFAULT_BLOCKED_MESSAGE } from "./guardrail.js";
export type { FakeGuardrail } from "./guardrail.js";
export { createLocalBedrockClient } from "./client.js";
export type { LocalBedrockClientOptions } from "./client.js";
