/**
 * The gateway's Pulumi program: validate the stack's config before anything exists, then build
 * one AiGateway under an AWS provider that takes the stack's `aws:*` settings and tags
 * everything with the project and stack.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, configWarnings, gatewayConfigFromPulumi, parseGatewayConfig } from "./functions/lib/config/parse.js";
import { AiGateway } from "./components/aiGateway.js";
import { awsProviderArgs } from "./components/lib/providerArgs.js";
import { stacklessRunError } from "./components/lib/runError.js";
import { CACHE_TABLE, USAGE_TABLE } from "./functions/lib/tables.js";
import { ensureWebBuild } from "./web/build.js";

const project = pulumi.getProject();
const stack = pulumi.getStack();

function readStackConfig() {
  const all = pulumi.runtime.allConfig();
  const providerArgs = awsProviderArgs(all, { "ai-gateway:project": project, "ai-gateway:stack": stack });
  const { region } = providerArgs;
  return { region, providerArgs, config: parseGatewayConfig(gatewayConfigFromPulumi(all), { region }) };
}

let stackConfig: ReturnType<typeof readStackConfig>;
try {
  stackConfig = readStackConfig();
} catch (err) {
  // A RunError ends the preview with just the message: every bad key path, no stack trace
  // (and none to format: see components/lib/runError.ts).
  if (err instanceof ConfigError) throw stacklessRunError(err.message);
  throw err;
}
const { region, providerArgs, config } = stackConfig;
// Valid but will not work as deployed (a placeholder alarm address): shown on every preview and up.
for (const warning of configWarnings(config)) pulumi.log.warn(warning);

const provider = new aws.Provider("aws", providerArgs);

// The chat UI is built here, like the Lambda bundles, and uploaded file by file.
const web = await ensureWebBuild();
const gateway = new AiGateway("gateway", { config, region, stack, webDistDir: web.dir }, { providers: { aws: provider } });

export { region };
export const eventsHttpEndpoint = gateway.events.httpEndpoint;
export const eventsRealtimeEndpoint = gateway.events.realtimeEndpoint;
export const userPoolId = gateway.identity.userPool.id;
export const userPoolClientId = gateway.identity.client.id;
export const inboundNamespace = gateway.inboundNamespace;
export const outboundNamespace = gateway.outboundNamespace;
export const dashboardUrl = gateway.dashboard.url;
export const alarmTopicArn = gateway.alarms.topic.arn;
export const analyticsBucket = gateway.analytics?.bucket.bucket;
export const analyticsDeliveryStream = gateway.analytics?.deliveryStream.name;
export const athenaWorkgroup = gateway.analytics?.workgroup.name;
export const athenaDatabase = gateway.analytics?.database.name;
/** For `npm run gateway -- usage|tier|cache --stack <name>`. */
export const usageTableName = gateway.tables.tables[USAGE_TABLE.name]!.name;
export const cacheTableName = gateway.tables.tables[CACHE_TABLE.name]!.name;
export const webUrl = gateway.web!.url;
