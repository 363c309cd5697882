/**
 * The Bedrock Guardrail the worker applies, named by the environment (ENV.guardrailId and
 * ENV.guardrailVersion, set by the program from the Guardrail component, or by local mode).
 * Both or neither: half a reference is a deployment fault, reported at cold start.
 */
import { ENV } from "../env.js";

export interface GuardrailRef {
  identifier: string;
  /** A published version: DRAFT changes under a running stack. */
  version: string;
}

export function guardrailFromEnv(env: NodeJS.ProcessEnv = process.env): GuardrailRef | undefined {
  const identifier = env[ENV.guardrailId];
  const version = env[ENV.guardrailVersion];
  if (!identifier && !version) return undefined;
  if (!identifier || !version) throw new Error(`${ENV.guardrailId} and ${ENV.guardrailVersion} must be set together`);
  return { identifier, version };
}
