/** A turn's analytics record as the worker builds it, for tests of its delivery and of the local Firehose. */
import { randomUUID } from "node:crypto";
import type { TurnRecord } from "../../functions/lib/analytics/columns.js";

export function turnRecord(overrides: Partial<TurnRecord> = {}): TurnRecord {
  return {
    request_id: randomUUID(),
    user_id: "user-1",
    conversation_id: "c-1",
    model_id: "us.amazon.nova-lite-v1:0",
    tier: "default",
    input_tokens: 10,
    output_tokens: 20,
    estimated_cost_usd: 0.0000054,
    cached: false,
    stop_reason: "end_turn",
    error_code: null,
    first_token_ms: 120,
    total_ms: 900,
    turn_at: Date.parse("2026-03-07T23:59:57.500Z"),
    prompt_preview: null,
    answer_preview: null,
    ...overrides,
  };
}
