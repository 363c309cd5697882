/**
 * What "usage is consistent" means, asserted in one place: the usage table read through
 * functions/lib/metering (the admission record the worker decides on, and the ledger rows
 * operators read), compared with what the model server says it reported. The bad-input,
 * hostile and fault tests say it in one line each.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { expect } from "vitest";
import { estimateInputTokens } from "../../functions/lib/metering/estimate.js";
import { UsageStore } from "../../functions/lib/metering/store.js";
import { usageAt } from "../../functions/lib/metering/usage.js";
import type { TokenCounts } from "../../functions/lib/protocol/outbound.js";
import type { BedrockServer, RecordedRequest } from "../../local/bedrock/index.js";

/** Where a user's usage rows are: a DynamoDB client and the usage table's name. */
export interface UsageTable {
  dynamodb: DynamoDBClient;
  usageTable: string;
}

export interface UsageView {
  /** Settled tokens in the rolling 24 h, from the admission record. */
  daily: TokenCounts;
  /** Settled tokens this month, from the admission record. */
  monthly: TokenCounts;
  /** Tokens held by reservations still counting at `now`. */
  reserved: TokenCounts;
  /** Reservations written in the record, expired or not (a settled turn removes its own). */
  reservationsInRecord: number;
  /** Sums over the ledger's month rows (what reports read), and the turns they counted. */
  ledger: TokenCounts & { turns: number };
}

/** The user's usage as the worker and operators see it, at `now`. */
export async function usageOf(table: UsageTable, userId: string, now = Date.now()): Promise<UsageView> {
  const { record, ledger } = await new UsageStore(table.dynamodb, table.usageTable).readPartition(userId);
  const usage = usageAt(record, now);
  const months = ledger.filter((row) => row.periodId.startsWith("monthly:"));
  return {
    daily: usage.daily,
    monthly: usage.monthly,
    reserved: usage.reserved,
    reservationsInRecord: Object.keys(record.reservations).length,
    ledger: {
      inputTokens: months.reduce((sum, row) => sum + row.inputTokens, 0),
      outputTokens: months.reduce((sum, row) => sum + row.outputTokens, 0),
      turns: months.reduce((sum, row) => sum + row.turns, 0),
    },
  };
}

/**
 * The user's settled usage is exactly `expected` in both windows and in the ledger, and no
 * reservation is left in the admission record. Returns the view for further checks.
 */
export async function expectSettled(table: UsageTable, userId: string, expected: TokenCounts, now = Date.now()): Promise<UsageView> {
  const view = await usageOf(table, userId, now);
  expect({ daily: view.daily, monthly: view.monthly, ledger: { inputTokens: view.ledger.inputTokens, outputTokens: view.ledger.outputTokens } }, `usage of ${userId}`).toEqual({
    daily: expected,
    monthly: expected,
    ledger: expected,
  });
  expect(view.reserved, `tokens still reserved by ${userId}`).toEqual({ inputTokens: 0, outputTokens: 0 });
  expect(view.reservationsInRecord, `reservations left in ${userId}'s admission record`).toBe(0);
  return view;
}

/** What the model server reported for these requests, summed (requests without a report add nothing). */
export function reportedBy(requests: readonly RecordedRequest[]): TokenCounts {
  return requests.reduce(
    (sum, r) => ({ inputTokens: sum.inputTokens + (r.usage?.inputTokens ?? 0), outputTokens: sum.outputTokens + (r.usage?.outputTokens ?? 0) }),
    { inputTokens: 0, outputTokens: 0 },
  );
}

/**
 * The gateway's documented input estimate (functions/lib/metering/estimate.ts) of a request as
 * the model server received it: what a turn is charged for input when the model reported nothing.
 */
export function inputEstimateOf(request: RecordedRequest): number {
  const body = request.body!;
  const system = (body.system ?? []).map((block) => block.text ?? "").join("");
  const messages = body.messages.map((m) => ({ text: m.content.map((block) => block.text ?? "").join("") }));
  return estimateInputTokens(system, messages);
}

/** No model call carried `marker` (each case puts a unique marker in its message). */
export function expectNoModelCall(bedrock: BedrockServer, marker: string): void {
  const calls = bedrock.requests.filter((r) => JSON.stringify(r.body ?? {}).includes(marker));
  expect(calls, `model calls carrying ${marker}`).toEqual([]);
}

/** The request identified by `marker` reached no model. */
export function expectNothingMetered(ctx: { bedrock: BedrockServer }, marker: string): void {
  expectNoModelCall(ctx.bedrock, marker);
}

/** The user has no usage rows at all: nothing was reserved, settled or counted for them. */
export async function expectNoUsageRows(table: UsageTable, userId: string): Promise<void> {
  const { record, ledger } = await new UsageStore(table.dynamodb, table.usageTable).readPartition(userId);
  expect({ version: record.version, ledger }, `usage rows of ${userId}`).toEqual({ version: 0, ledger: [] });
}
