/**
 * AWS's public on-demand prices, US East (N. Virginia), in USD, as used by bench/cost.ts. Where
 * each figure comes from and when it was looked up is in docs/performance.md ("Cost per 1,000
 * turns"); change both together. Free tiers are left out: the comparison is per unit of use.
 */
export const PRICES = {
  /** AppSync Events: each Event API operation (a published event, a delivered message, a connect, a subscribe). */
  appsyncEventOperation: 1.0 / 1e6,
  /** AppSync Events: per connection-minute of a WebSocket. */
  appsyncConnectionMinute: 0.08 / 1e6,
  /** Lambda: per request. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda on arm64 (the program's architecture): per GB-second, first 7.5 billion GB-s a month. */
  lambdaArmGbSecond: 0.0000133334,
  /** DynamoDB on-demand, after the November 2024 price cut: per write request unit. */
  dynamodbWriteUnit: 0.625 / 1e6,
  /** DynamoDB on-demand, after the November 2024 price cut: per read request unit. */
  dynamodbReadUnit: 0.125 / 1e6,
  /** Firehose Direct PUT ingestion, per GB, each record rounded up to the next 5 KB. */
  firehoseIngestGb: 0.029,
  /** Firehose format conversion (JSON to Parquet), per GB ingested. */
  firehoseConversionGb: 0.018,
  /** S3 Standard PUT, COPY, POST, LIST requests, per request. */
  s3Put: 0.005 / 1000,
  /** CloudWatch PutMetricData, per request (the seed's per-turn metrics call; EMF logs avoid it). */
  cloudwatchPutMetricData: 0.01 / 1000,
} as const;

/** Firehose bills each record in 5 KB increments. */
export const FIREHOSE_RECORD_INCREMENT_BYTES = 5 * 1024;

export const GB = 1024 ** 3;

/** Firehose's billable bytes for records of these sizes. */
export function firehoseBillableBytes(recordSizes: readonly number[]): number {
  return recordSizes.reduce((sum, size) => sum + Math.max(1, Math.ceil(size / FIREHOSE_RECORD_INCREMENT_BYTES)) * FIREHOSE_RECORD_INCREMENT_BYTES, 0);
}
