/**
 * The environment the gateway's code reads its AWS settings from, as Lambda gives it, set for
 * benchmarks that run that code in this process against the local parts (any key works there).
 * Values already set are kept.
 */
import { LOCAL_CREDENTIALS } from "../local/dynamodb.js";

export function useLocalAwsEnvironment(region: string): void {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  // The SDK clients take their region from the environment, as in Lambda.
  process.env.AWS_REGION ??= region;
}
