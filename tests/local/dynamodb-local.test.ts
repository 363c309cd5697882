import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, inject, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";

const endpoint = inject("dynamodbEndpoint");
const listTables = (headers: Record<string, string>) =>
  fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.ListTables",
      authorization: "AWS4-HMAC-SHA256 Credential=anything/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00",
      ...headers,
    },
    body: "{}",
  });

describe("DynamoDB Local as the gateway starts it", () => {
  it("is on 127.0.0.1 and serves the AWS SDK with any credentials", async () => {
    expect(new URL(endpoint).hostname).toBe("127.0.0.1");
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
    try {
      expect(Array.isArray((await client.send(new ListTablesCommand({}))).TableNames)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it("refuses any request from a web page (it accepts any credentials, so a page must not reach it)", async () => {
    expect((await listTables({})).status).toBe(200);
    const fromPage = await listTables({ origin: "http://evil.example" });
    expect(fromPage.status).toBe(403);
    expect(fromPage.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(endpoint, { method: "OPTIONS", headers: { origin: "http://evil.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(403);
  });
});
