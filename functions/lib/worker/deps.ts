/**
 * What the chat worker needs from the outside world, created once per container by the
 * handler file (or by local mode and tests) and passed in.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { AnalyticsRecorder } from "../analytics/recorder.js";
import type { PreparedCache } from "../cache/store.js";
import type { RunningAnswers } from "../cancel/runs.js";
import type { GatewayConfig } from "../config/schema.js";
import type { ConversationStore } from "../conversations/store.js";
import type { GuardrailRef } from "../guardrail/settings.js";
import type { UsageMeter } from "../metering/meter.js";
import type { ModelMetrics } from "../observability/metrics.js";
import type { Publisher } from "../relay/publisher.js";
import type { RequestClaim } from "./request-claim.js";

export interface WorkerDeps {
  config: GatewayConfig;
  bedrock: BedrockRuntimeClient;
  publisher: Publisher;
  claim: RequestClaim;
  /** Token metering: admission before the model call, settlement after, quota (functions/lib/metering). */
  usage: UsageMeter;
  logger: Logger;
  /** Per-invocation metrics without a model (InboundEvents), flushed by the middy middleware. */
  metrics: Metrics;
  /** Per-model metrics (tokens, latency, model failures). */
  modelMetrics: ModelMetrics;
  /**
   * One analytics record per chat turn; absent when analytics is off. It reads each turn's
   * events, so `publisher` must be the one it observes (`analytics.observe(publisher)`).
   */
  analytics?: AnalyticsRecorder;
  /** Conversation history (conversations, history, deleteConversation; the turns a model receives). */
  conversations: ConversationStore;
  /** Prepared responses, looked up on a conversation's first turn. */
  cache: PreparedCache;
  /** Running answers and their cancels, shared by every worker instance through DynamoDB. */
  cancels: RunningAnswers;
  /** The Bedrock Guardrail every model call goes through; absent when `guardrail.enabled` is false. */
  guardrail?: GuardrailRef;
  /** Abort a model stream that sends nothing for this long. @default 60000 */
  modelIdleTimeoutMs?: number;
}
