/**
 * onSubscribe of the Outbound namespace (REQUEST_RESPONSE): a user may subscribe to their own
 * channel only.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { AppSyncEventsEvent } from "./lib/appsync/event.js";
import { loadMetricsNamespace } from "./lib/config/metrics-namespace.js";
import { ENV } from "./lib/env.js";
import { METRIC, MetricUnit } from "./lib/observability/metrics.js";
import { authorizeSubscription } from "./lib/subscribe.js";

const logger = new Logger({ serviceName: "subscribe-authorizer", persistentKeys: { stack: process.env[ENV.stack] } });
const metrics = new Metrics({ namespace: loadMetricsNamespace(), serviceName: "ai-gateway" });

export const handler = middy(async (event: AppSyncEventsEvent) => {
  const decision = authorizeSubscription(event, logger);
  metrics.addMetric(METRIC.refusedSubscriptions, MetricUnit.Count, decision ? 1 : 0);
  return decision;
})
  // The event holds the user's JWT (and prompts): never logged, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics));
