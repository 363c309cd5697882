/**
 * Counting what a turn costs in billable operations, on the real SDK clients: DynamoDB request
 * units (every request asks for ReturnConsumedCapacity, which DynamoDB Local answers as
 * DynamoDB does) and the AppSync publishes a relay makes.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { OutboundEvent } from "../functions/lib/protocol/outbound.js";
import type { Publisher } from "../functions/lib/relay/publisher.js";

/** What a set of turns used, by billing unit. */
export interface Operations {
  turns: number;
  lambdaInvocations: number;
  /** Sum of the worker's wall time per invocation (Lambda bills duration, 1 ms granularity). */
  lambdaBilledMs: number;
  lambdaMemoryMb: number;
  /** HTTP publish requests to the Events API (not billed as such; each carries 1-5 events). */
  publishRequests: number;
  /** Events published by the worker: one Event API operation each. */
  eventsPublished: number;
  /** Events delivered to subscribers: one Event API operation each (one subscriber per channel). */
  messagesDelivered: number;
  dynamodbRequests: number;
  dynamodbReadUnits: number;
  dynamodbWriteUnits: number;
  /** Firehose records' sizes in bytes, before the 5 KB rounding. */
  firehoseRecordBytes: number[];
  cloudwatchPutMetricData: number;
}

export const emptyOperations = (lambdaMemoryMb: number): Operations => ({
  turns: 0,
  lambdaInvocations: 0,
  lambdaBilledMs: 0,
  lambdaMemoryMb,
  publishRequests: 0,
  eventsPublished: 0,
  messagesDelivered: 0,
  dynamodbRequests: 0,
  dynamodbReadUnits: 0,
  dynamodbWriteUnits: 0,
  firehoseRecordBytes: [],
  cloudwatchPutMetricData: 0,
});

const WRITES = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand", "BatchWriteItemCommand", "TransactWriteItemsCommand", "PutCommand", "UpdateCommand", "DeleteCommand", "BatchWriteCommand", "TransactWriteCommand"]);

type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

/**
 * Adds request units to `target()` (the operations of whoever is running now) for every
 * request on `client`: reads and writes by what the request is, as on-demand bills them.
 */
export function countRequestUnits(client: DynamoDBClient, target: () => Operations | undefined): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= "TOTAL";
      const result = await next(args);
      const ops = target();
      if (ops) {
        ops.dynamodbRequests++;
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        if (WRITES.has(context.commandName ?? "")) ops.dynamodbWriteUnits += units;
        else ops.dynamodbReadUnits += units;
      }
      return result;
    },
    { step: "initialize", name: "countRequestUnits" },
  );
}

/** A publisher that counts requests and events into `target()` before passing them on. */
export function countingPublisher(inner: Publisher, target: () => Operations | undefined): Publisher {
  return {
    async publish(channel: string, events: readonly OutboundEvent[]) {
      const ops = target();
      if (ops) {
        ops.publishRequests++;
        ops.eventsPublished += events.length;
        ops.messagesDelivered += events.length;
      }
      await inner.publish(channel, events);
    },
  };
}
