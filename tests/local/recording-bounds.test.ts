import { describe, expect, it } from "vitest";
import { HttpEventPublisher } from "../../functions/lib/relay/publisher.js";
import { createLocalBedrockClient, startBedrockServer } from "../../local/bedrock/index.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { gatewayNamespaces } from "../../local/events/namespaces.js";
import { startEventsServer } from "../../local/events/server.js";
import { ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";

describe("bounded recording for long local sessions", () => {
  it("keeps only the most recent publishes when the Events server is given a bound", async () => {
    const events = await startEventsServer({
      region: "us-east-1",
      namespaces: gatewayNamespaces(),
      auth: { verifyCognitoToken: async () => null, iamCredentials: LOCAL_CREDENTIALS },
      maxRecordedPublishes: 2,
    });
    try {
      const publisher = new HttpEventPublisher({ endpoint: events.httpEndpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
      for (let seq = 0; seq < 5; seq++) {
        await publisher.publish("/Outbound-Messages/u1", [{ type: "delta", conversationId: "c", text: `t${seq}`, requestId: "r", seq }]);
      }
      expect(events.published).toHaveLength(2);
      expect(events.publishedTo("/Outbound-Messages/u1").map((p) => (p as { seq: number }).seq)).toEqual([3, 4]);
    } finally {
      await events.close();
    }
  });

  it("keeps only the most recent model requests when the model server is given a bound", async () => {
    const bedrock = await startBedrockServer({ maxRecordedRequests: 1 });
    const client = createLocalBedrockClient(bedrock.url);
    try {
      for (const text of ["first", "second"]) {
        const reply = await client.send(new ConverseStreamCommand({ modelId: "m.x", messages: [{ role: "user", content: [{ text }] }] }));
        for await (const _ of reply.stream ?? []);
      }
      expect(bedrock.requests.map((r) => r.body?.messages?.[0]?.content?.[0]?.text)).toEqual(["second"]);
    } finally {
      client.destroy();
      await bedrock.close();
    }
  });
});
