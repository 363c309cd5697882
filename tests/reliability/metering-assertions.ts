/**
 * What "this request cost nothing" means, asserted in one place so the bad-input and hostile
 * tests say it in one line each. Today a request costs a model call; when the usage table
 * lands (metering, issue 9), `expectNothingMetered` also reads the user's usage rows and
 * expects none: add that here and every caller checks it.
 */
import { expect } from "vitest";
import type { BedrockServer } from "../../local/bedrock/index.js";

/** No model call carried `marker` (each case puts a unique marker in its message). */
export function expectNoModelCall(bedrock: BedrockServer, marker: string): void {
  const calls = bedrock.requests.filter((r) => JSON.stringify(r.body ?? {}).includes(marker));
  expect(calls, `model calls carrying ${marker}`).toEqual([]);
}

/** The request identified by `marker` reached no model and, once metering exists, used no tokens. */
export function expectNothingMetered(ctx: { bedrock: BedrockServer }, marker: string): void {
  expectNoModelCall(ctx.bedrock, marker);
}
