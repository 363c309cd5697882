/**
 * Consumer of the worker's on-failure queue: tells each user whose request died before an
 * answer. Records that could not be delivered are reported back to SQS for another try.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { loadGatewayConfig } from "./lib/config/load.js";
import { notifyDeadLetter } from "./lib/dead-letters.js";
import { ENV } from "./lib/env.js";
import { METRIC, MetricUnit } from "./lib/observability/metrics.js";
import { eventPublisherFromEnv } from "./lib/runtime.js";

const config = loadGatewayConfig();
const logger = new Logger({ serviceName: "dead-letter-notifier", persistentKeys: { stack: process.env[ENV.stack] } });
const metrics = new Metrics({ namespace: config.observability.metricsNamespace, serviceName: "ai-gateway" });
const publisher = eventPublisherFromEnv();

export const handler = middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    try {
      await notifyDeadLetter(record.body, publisher, logger);
    } catch (err) {
      logger.error("could not tell the user about a dead letter", { error_name: (err as Error).name });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  metrics.addMetric(METRIC.deadLetters, MetricUnit.Count, event.Records.length);
  return { batchItemFailures };
})
  // The event holds the user's JWT (and prompts): never logged, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics));
