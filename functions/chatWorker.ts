/**
 * onPublish of the Inbound namespace (invoked asynchronously): answers each inbound event on
 * its publisher's outbound channel. The logic is in lib/worker.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { AppSyncEventsEvent } from "./lib/appsync/event.js";
import { turnRecorderFromEnv } from "./lib/analytics/from-env.js";
import { PreparedCache } from "./lib/cache/store.js";
import { RunningAnswers } from "./lib/cancel/runs.js";
import { loadGatewayConfig } from "./lib/config/load.js";
import { ConversationStore } from "./lib/conversations/store.js";
import { guardrailFromEnv } from "./lib/guardrail/settings.js";
import { ENV, requireEnv } from "./lib/env.js";
import { createUsageMeter, reservationLifetimeMs } from "./lib/metering/meter.js";
import { METRICS_SERVICE, ModelMetrics, reportMetricsFailure } from "./lib/observability/metrics.js";
import { bedrockFromEnv, dynamoDbFromEnv, eventPublisherFromEnv } from "./lib/runtime.js";
import { handleInboundPublish } from "./lib/worker/inbound.js";
import { createRequestClaim } from "./lib/worker/request-claim.js";

const config = loadGatewayConfig();
const logger = new Logger({ serviceName: "chat-worker", persistentKeys: { stack: process.env[ENV.stack] } });
const metricsOptions = { namespace: config.observability.metricsNamespace, serviceName: METRICS_SERVICE };
const metrics = new Metrics(metricsOptions);
const analytics = turnRecorderFromEnv({ config, logger, metrics });
const publisher = eventPublisherFromEnv();
const dynamodb = dynamoDbFromEnv();

const deps = {
  config,
  logger,
  metrics,
  modelMetrics: new ModelMetrics(metricsOptions, reportMetricsFailure(logger, metrics)),
  bedrock: bedrockFromEnv(),
  publisher: analytics?.observe(publisher) ?? publisher,
  analytics,
  claim: createRequestClaim({
    tableName: requireEnv(ENV.idempotencyTable),
    dynamodb,
    // Outlives the worker's timeout, so a late duplicate of a finished request stays ignored.
    expiresAfterSeconds: Math.max(3600, config.worker.timeoutSeconds * 4),
  }),
  usage: createUsageMeter({
    dynamodb,
    tableName: requireEnv(ENV.usageTable),
    reservationTtlMs: reservationLifetimeMs(config.worker.timeoutSeconds),
  }),
  conversations: new ConversationStore({ dynamodb, tableName: requireEnv(ENV.conversationsTable), ttlDays: config.history.ttlDays }),
  cache: new PreparedCache({ dynamodb, tableName: requireEnv(ENV.cacheTable) }),
  cancels: new RunningAnswers({
    dynamodb,
    tableName: requireEnv(ENV.conversationsTable),
    // A run record outlives the longest answer, so a cancel never misses a running one.
    runExpirySeconds: config.worker.timeoutSeconds + 60,
    // An early cancel outlives the oldest event Lambda may still deliver.
    earlyCancelSeconds: Math.max(900, config.worker.maximumEventAgeSeconds + 60),
    onPollError: (err) => logger.warn("could not check for a cancel", { error_name: (err as Error)?.name }),
  }),
  guardrail: guardrailFromEnv(),
};

export const handler = middy(async (event: AppSyncEventsEvent, context: Context) => {
  deps.claim.registerLambdaContext(context);
  try {
    await handleInboundPublish(deps, event, { remainingTimeMs: () => context.getRemainingTimeInMillis() });
  } finally {
    // After every final event went out; before returning, or Lambda would freeze the send.
    await analytics?.flush();
  }
})
  // The event holds the user's JWT (and prompts): never logged, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
