/**
 * The benchmark's remote side, in its own process (as Bedrock and AppSync are to a Lambda):
 * the Bedrock-compatible server and the Events server. Prints its endpoints as one JSON line,
 * and stops when its parent closes stdin.
 */
import { startBedrockServer } from "../local/bedrock/index.js";
import { LOCAL_CREDENTIALS } from "../local/dynamodb.js";
import { gatewayNamespaces } from "../local/events/namespaces.js";
import { startEventsServer } from "../local/events/server.js";

const bedrock = await startBedrockServer();
const events = await startEventsServer({
  region: "us-east-1",
  namespaces: gatewayNamespaces(),
  auth: { verifyCognitoToken: async () => null, iamCredentials: LOCAL_CREDENTIALS },
});
process.stdout.write(`${JSON.stringify({ bedrockUrl: bedrock.url, eventsHttpEndpoint: events.httpEndpoint })}\n`);
process.stdin.resume();
process.stdin.on("end", async () => {
  await Promise.all([bedrock.close(), events.close()]);
  process.exit(0);
});
