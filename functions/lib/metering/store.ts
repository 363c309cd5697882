/**
 * The usage table's reads and writes. One partition per user (`user_id`); sort keys:
 * `admission` (the record admission decides on, record.ts), `10min:YYYY-MM-DD:HH:M0` bucket
 * rows and `monthly:YYYY-MM` month rows (the ledger). Every row carries `ttl`.
 */
import type { DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { TokenCounts } from "../protocol/outbound.js";
import { USAGE_TABLE } from "../tables.js";
import { ADMISSION_PERIOD, ATTR, itemFromRecord, recordFromItem, type AdmissionRecord } from "./record.js";
import { bucketId, bucketStart, DAY_MS, monthId, nextMonthStart } from "./windows.js";

const PK = USAGE_TABLE.partitionKey;
const SK = USAGE_TABLE.sortKey!;
const TTL = USAGE_TABLE.ttlAttribute!;

/** Bucket rows outlive the window by two hours: the ledger of the last day stays readable. */
export const BUCKET_ROW_LIFETIME_MS = DAY_MS + 2 * 60 * 60 * 1000;
/** Month rows are kept 400 days after the month ends: a year back, for reports and disputes. */
export const MONTH_ROW_LIFETIME_MS = 400 * DAY_MS;

/** One row of the ledger: a bucket or a month. */
export interface LedgerRow {
  periodId: string;
  inputTokens: number;
  outputTokens: number;
  turns: number;
  ttl: number;
}

export type SettleOutcome = "settled" | "duplicate";

export class UsageStore {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    dynamodb: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.db = DynamoDBDocumentClient.from(dynamodb);
  }

  /** The admission record, read consistently (a stale read could admit past a limit). */
  async readRecord(userId: string): Promise<AdmissionRecord> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: userId, [SK]: ADMISSION_PERIOD }, ConsistentRead: true }),
    );
    return recordFromItem(Item);
  }

  /**
   * Replaces the record if nobody wrote it since it was read at `record.version`; false when
   * somebody did (another admission or a settlement), and the caller reads again.
   */
  async writeRecord(userId: string, record: AdmissionRecord, now: number): Promise<boolean> {
    const item = { ...itemFromRecord({ ...record, version: record.version + 1 }, now), [PK]: userId, [SK]: ADMISSION_PERIOD };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(record.version === 0
            ? { ConditionExpression: "attribute_not_exists(#sk)", ExpressionAttributeNames: { "#sk": SK } }
            : { ConditionExpression: "#v = :v", ExpressionAttributeNames: { "#v": ATTR.version }, ExpressionAttributeValues: { ":v": record.version } }),
        }),
      );
      return true;
    } catch (err) {
      // A settlement transaction holding the item right now is the same news: it changed.
      if (errorName(err) === "ConditionalCheckFailedException" || errorName(err) === "TransactionConflictException") return false;
      throw err;
    }
  }

  /**
   * Settles one turn exactly once: the bucket and month rows and the record's totals grow by
   * `consumed`, and the turn's reservation goes, in one transaction on the condition that the
   * reservation is still there. A second settlement of the same request finds it gone and
   * changes nothing ("duplicate").
   */
  async settle(userId: string, requestId: string, consumed: TokenCounts, now: number): Promise<SettleOutcome> {
    const bucket = bucketId(now);
    const month = monthId(now);
    const spent = consumed.inputTokens > 0 || consumed.outputTokens > 0;
    const ledgerRow = (periodId: string, ttl: number) => ({
      Update: {
        TableName: this.tableName,
        Key: { [PK]: userId, [SK]: periodId },
        UpdateExpression: "ADD input_tokens :in, output_tokens :out, turns :one SET #ttl = :ttl",
        ExpressionAttributeNames: { "#ttl": TTL },
        ExpressionAttributeValues: { ":in": consumed.inputTokens, ":out": consumed.outputTokens, ":one": 1, ":ttl": ttl },
      },
    });
    const totals = spent
      ? ", #di.#b = if_not_exists(#di.#b, :zero) + :in, #do.#b = if_not_exists(#do.#b, :zero) + :out" +
        ", #mi.#m = if_not_exists(#mi.#m, :zero) + :in, #mo.#m = if_not_exists(#mo.#m, :zero) + :out"
      : "";
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { [PK]: userId, [SK]: ADMISSION_PERIOD },
                ConditionExpression: "attribute_exists(#r.#id)",
                UpdateExpression: `SET #v = #v + :one${totals} REMOVE #r.#id`,
                ExpressionAttributeNames: {
                  "#r": ATTR.reservations,
                  "#id": requestId,
                  "#v": ATTR.version,
                  ...(spent
                    ? { "#di": ATTR.dailyInput, "#do": ATTR.dailyOutput, "#mi": ATTR.monthlyInput, "#mo": ATTR.monthlyOutput, "#b": bucket, "#m": month }
                    : {}),
                },
                ExpressionAttributeValues: { ":one": 1, ...(spent ? { ":zero": 0, ":in": consumed.inputTokens, ":out": consumed.outputTokens } : {}) },
              },
            },
            ...(spent
              ? [
                  ledgerRow(bucket, Math.ceil((bucketStart(now) + BUCKET_ROW_LIFETIME_MS) / 1000)),
                  ledgerRow(month, Math.ceil((nextMonthStart(now) + MONTH_ROW_LIFETIME_MS) / 1000)),
                ]
              : []),
          ],
        }),
      );
      return "settled";
    } catch (err) {
      if (cancellationReasons(err)[0] === "ConditionalCheckFailed") return "duplicate";
      throw err;
    }
  }

  /** Every row of a user's partition: the record and the ledger (for operators; one Query, paged). */
  async readPartition(userId: string): Promise<{ record: AdmissionRecord; ledger: LedgerRow[] }> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": PK },
          ExpressionAttributeValues: { ":pk": userId },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const record = recordFromItem(items.find((i) => i[SK] === ADMISSION_PERIOD));
    const ledger = items
      .filter((i) => i[SK] !== ADMISSION_PERIOD)
      .map((i) => ({
        periodId: String(i[SK]),
        inputTokens: Number(i.input_tokens ?? 0),
        outputTokens: Number(i.output_tokens ?? 0),
        turns: Number(i.turns ?? 0),
        ttl: Number(i[TTL] ?? 0),
      }));
    return { record, ledger };
  }
}

/** Settlement failures worth another try: another writer held the item for a moment. */
export function isTransientConflict(err: unknown): boolean {
  return errorName(err) === "TransactionConflictException" || cancellationReasons(err).includes("TransactionConflict");
}

// By name, not instanceof: local mode loads a handler module once per container.
const errorName = (err: unknown) => (err as { name?: string } | null)?.name;

function cancellationReasons(err: unknown): (string | undefined)[] {
  if (errorName(err) !== "TransactionCanceledException") return [];
  return ((err as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code);
}
