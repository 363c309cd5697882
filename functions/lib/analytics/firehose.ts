/**
 * Delivering turn records to a Firehose delivery stream with the AWS SDK: PutRecord for one,
 * PutRecordBatch for several (at most 500 per call). Each attempt is bounded by a short
 * timeout, because the invocation waits for it before returning.
 */
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand } from "@aws-sdk/client-firehose";
import type { TurnRecord } from "./columns.js";

/** Firehose's own limit for one PutRecordBatch call. */
export const MAX_RECORDS_PER_BATCH = 500;

export interface DeliveryOutcome {
  delivered: number;
  failed: number;
  /** Firehose's error codes for the records it refused (no record content). */
  errorCodes: string[];
}

/** Where the recorder sends records; Firehose in AWS and locally, anything in tests. */
export interface RecordDelivery {
  deliver(records: readonly TurnRecord[]): Promise<DeliveryOutcome>;
}

export interface FirehoseDeliveryOptions {
  client: FirehoseClient;
  streamName: string;
  /** One call's limit; the invocation waits this long at most per batch. @default 2000 */
  timeoutMs?: number;
}

/** Newline-delimited JSON, so raw S3 objects (the error output) stay one record per line. */
export const encodeRecord = (record: TurnRecord): Uint8Array => Buffer.from(`${JSON.stringify(record)}\n`, "utf8");

export class FirehoseDelivery implements RecordDelivery {
  private readonly timeoutMs: number;

  constructor(private readonly options: FirehoseDeliveryOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** Throws when a call fails as a whole (timeout, network, access); reports refused records. */
  async deliver(records: readonly TurnRecord[]): Promise<DeliveryOutcome> {
    const outcome: DeliveryOutcome = { delivered: 0, failed: 0, errorCodes: [] };
    for (let i = 0; i < records.length; i += MAX_RECORDS_PER_BATCH) {
      const batch = records.slice(i, i + MAX_RECORDS_PER_BATCH);
      const abortSignal = AbortSignal.timeout(this.timeoutMs);
      if (batch.length === 1) {
        await this.options.client.send(
          new PutRecordCommand({ DeliveryStreamName: this.options.streamName, Record: { Data: encodeRecord(batch[0]!) } }),
          { abortSignal },
        );
        outcome.delivered += 1;
        continue;
      }
      const result = await this.options.client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: this.options.streamName, Records: batch.map((r) => ({ Data: encodeRecord(r) })) }),
        { abortSignal },
      );
      const failed = result.FailedPutCount ?? 0;
      outcome.failed += failed;
      outcome.delivered += batch.length - failed;
      for (const response of result.RequestResponses ?? []) if (response.ErrorCode) outcome.errorCodes.push(response.ErrorCode);
    }
    return outcome;
  }
}

/** The worker's Firehose client: one attempt plus one retry, each inside the delivery's timeout. */
export function createFirehoseClient(options: { region: string; endpoint?: string }): FirehoseClient {
  return new FirehoseClient({ region: options.region, maxAttempts: 2, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
}
