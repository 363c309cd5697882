/**
 * `observability.metricsNamespace`, the one key the subscribe authorizer needs: its rule lives
 * here (schema.ts uses it) so the authorizer can read the key without loading the schema, which
 * would triple its bundle and its cold start (docs/performance.md).
 */
import { readBundledConfig } from "./bundled-file.js";

export const DEFAULT_METRICS_NAMESPACE = "AiGateway";
/** What CloudWatch accepts in a namespace. */
export const METRICS_NAMESPACE_PATTERN = /^[A-Za-z0-9/_.#:-]{1,255}$/;

/**
 * The namespace from the bundled config (validated in full at deploy time), checked by the
 * schema's own rule and defaulted as the schema does.
 */
export function loadMetricsNamespace(path?: string): string {
  const config = readBundledConfig(path) as { observability?: { metricsNamespace?: unknown } } | null;
  const namespace = config?.observability?.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
  if (typeof namespace !== "string" || !METRICS_NAMESPACE_PATTERN.test(namespace)) {
    throw new Error(`Invalid stack configuration:\n  - ai-gateway:observability.metricsNamespace: must match ${METRICS_NAMESPACE_PATTERN}`);
  }
  return namespace;
}
