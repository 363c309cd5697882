/**
 * The seed's way of answering a turn (the AWS blog in /work/shared/seeds), run for real against
 * the same model server, Events server and DynamoDB Local, so its operations can be counted:
 *
 * - usage check: a Query over the last 24 h of ten-minute bucket rows and a GetItem of the
 *   month row (boto3's default, eventually consistent reads); the prepared-response GetItem;
 * - the ConverseStream answer relayed one publish per stream event (messageStart, every
 *   contentBlockDelta, contentBlockStop, messageStop, metadata), each on a new HTTPS
 *   connection (a `requests.post` without a session), each awaited before the next event;
 * - usage charged with an atomic ADD on the bucket and the month row from the metadata event;
 * - one Firehose `put_record` and one CloudWatch `put_metric_data` per turn.
 *
 * Nothing here is the gateway's code; it is the baseline the cost figures are compared with.
 */
import { BedrockRuntimeClient, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { GetItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { NodeSha256 } from "../functions/lib/relay/sha256.js";
import { bucketId, bucketStart, DAY_MS, monthId } from "../functions/lib/metering/windows.js";
import type { Operations } from "./operations.js";

export interface SeedTurnOptions {
  dynamodb: DynamoDBClient;
  bedrock: BedrockRuntimeClient;
  usageTable: string;
  cacheTable: string;
  eventsHttpEndpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  modelId: string;
  /** Bytes of the analytics record the seed puts per turn (its `log_data` JSON). */
  firehoseRecordBytes: number;
}

/** One turn the seed's way; adds what it used to `ops` (DynamoDB units through the client's counter). */
export async function seedTurn(options: SeedTurnOptions, ops: Operations, user: string, message: string): Promise<void> {
  const started = performance.now();
  const now = Date.now();
  const { dynamodb } = options;
  const first = bucketId(bucketStart(now) - DAY_MS + 10 * 60_000);
  await dynamodb.send(
    new QueryCommand({
      TableName: options.usageTable,
      KeyConditionExpression: "user_id = :u AND period_id BETWEEN :a AND :b",
      ExpressionAttributeValues: { ":u": { S: user }, ":a": { S: first }, ":b": { S: bucketId(now) } },
    }),
  );
  await dynamodb.send(new GetItemCommand({ TableName: options.usageTable, Key: { user_id: { S: user }, period_id: { S: monthId(now) } } }));
  const hash = createHash("sha256").update(message.trim().toLowerCase()).digest("hex");
  await dynamodb.send(new GetItemCommand({ TableName: options.cacheTable, Key: { cache_key: { S: hash } } }));

  const response = await options.bedrock.send(
    new ConverseStreamCommand({ modelId: options.modelId, messages: [{ role: "user", content: [{ text: message }] }], inferenceConfig: { maxTokens: 2000 } }),
  );
  const signer = new SignatureV4({ service: "appsync", region: options.region, credentials: options.credentials, sha256: NodeSha256 });
  const channel = `/Outbound-Messages/${user}`;
  let usage: { inputTokens?: number; outputTokens?: number } | undefined;
  for await (const event of response.stream ?? []) {
    if (event.metadata?.usage) usage = event.metadata.usage;
    await publishOnNewConnection(options.eventsHttpEndpoint, signer, channel, JSON.stringify(event));
    ops.publishRequests++;
    ops.eventsPublished++;
    ops.messagesDelivered++;
  }
  for (const period of [bucketId(now), monthId(now)]) {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: options.usageTable,
        Key: { user_id: { S: user }, period_id: { S: period } },
        UpdateExpression: "ADD input_tokens :i, output_tokens :o SET #ts = :ts, #ttl = :ttl",
        ExpressionAttributeNames: { "#ts": "timestamp", "#ttl": "ttl" },
        ExpressionAttributeValues: {
          ":i": { N: String(usage?.inputTokens ?? 0) },
          ":o": { N: String(usage?.outputTokens ?? 0) },
          ":ts": { N: String(Math.floor(now / 1000)) },
          ":ttl": { N: String(Math.floor(now / 1000) + 86_400) },
        },
      }),
    );
  }
  ops.firehoseRecordBytes.push(options.firehoseRecordBytes);
  ops.cloudwatchPutMetricData++;
  ops.turns++;
  ops.lambdaInvocations++;
  ops.lambdaBilledMs += Math.ceil(performance.now() - started);
}

/** One signed publish of one event on a connection of its own (no keep-alive agent). */
async function publishOnNewConnection(endpoint: string, signer: SignatureV4, channel: string, event: string): Promise<void> {
  const url = new URL(endpoint);
  const body = JSON.stringify({ channel, events: [event] });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: { host: url.host, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      body,
    }),
  );
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: "POST", headers: signed.headers, agent: false }, (res) => {
      res.resume();
      res.once("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`publish refused: HTTP ${res.statusCode}`))));
    });
    req.once("error", reject);
    req.end(body);
  });
}
