/**
 * A real DynamoDB client (against DynamoDB Local) whose chosen command fails before it is
 * sent, a given number of times: an idempotency store that breaks at the right moment.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { inject } from "vitest";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { REGION } from "./worker-harness.js";

export interface FailingDynamoDb {
  client: DynamoDBClient;
  /** Commands that failed on purpose so far. */
  failed: string[];
}

export type FailingCommand = "UpdateItemCommand" | "DeleteItemCommand" | "PutItemCommand" | "GetItemCommand" | "QueryCommand";

/**
 * `times: Infinity` fails every such command; `when` narrows it to the commands whose input
 * it accepts (a put of one item, not of another). Fails outside the SDK's own retries.
 */
export function failingDynamoDb(command: FailingCommand, times: number, when: (input: Record<string, unknown>) => boolean = () => true): FailingDynamoDb {
  const client = new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: REGION, credentials: LOCAL_CREDENTIALS });
  const failed: string[] = [];
  let left = times;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && left > 0 && when(args.input as Record<string, unknown>)) {
        left--;
        failed.push(command);
        throw Object.assign(new Error("store unavailable"), { name: "InternalServerError", $fault: "server" });
      }
      return next(args);
    },
    { step: "initialize", name: "failChosenCommand" },
  );
  return { client, failed };
}
