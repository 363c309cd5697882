/**
 * The environment variables the functions read. Only resource names and endpoints travel this
 * way (Lambda's 4 KB cap); the stack config is a bundled file (config/load.ts).
 */
export const ENV = {
  /** `https://<HTTP host>/event` of the Events API. */
  eventsHttpEndpoint: "EVENTS_HTTP_ENDPOINT",
  idempotencyTable: "IDEMPOTENCY_TABLE",
  /** The Firehose delivery stream for analytics records; unset means analytics is off. */
  analyticsStream: "ANALYTICS_DELIVERY_STREAM",
  /** The usage table (token metering). */
  usageTable: "USAGE_TABLE",
  /** Conversation history and running-answer (cancel) records. */
  conversationsTable: "CONVERSATIONS_TABLE",
  /** Prepared responses. */
  cacheTable: "CACHE_TABLE",
  /** The Bedrock Guardrail and its published version; both unset when the guardrail is off. */
  guardrailId: "GUARDRAIL_ID",
  guardrailVersion: "GUARDRAIL_VERSION",
  /** Optional endpoint overrides, for local mode. */
  firehoseEndpoint: "FIREHOSE_ENDPOINT",
  bedrockEndpoint: "BEDROCK_ENDPOINT",
  dynamodbEndpoint: "DYNAMODB_ENDPOINT",
  /**
   * Local mode only (unset in AWS, where the function's role signs): the key the local Events
   * server accepts for server publishes, so `--model bedrock` can leave the default credential
   * chain to Bedrock.
   */
  eventsPublisherAccessKeyId: "EVENTS_PUBLISHER_ACCESS_KEY_ID",
  eventsPublisherSecretAccessKey: "EVENTS_PUBLISHER_SECRET_ACCESS_KEY",
  /** Which stack the function belongs to; logged with every line. */
  stack: "GATEWAY_STACK",
  /** Where the bundled config is, when not beside the code. */
  configPath: "GATEWAY_CONFIG_PATH",
  /** Powertools settings. */
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
  logLevel: "POWERTOOLS_LOG_LEVEL",
} as const;

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
