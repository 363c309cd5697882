/** The worker's analytics recorder, from its environment: none when no delivery stream is named. */
import { ENV } from "../env.js";
import { region } from "../runtime.js";
import { createFirehoseClient, FirehoseDelivery } from "./firehose.js";
import { TurnRecorder, type TurnRecorderOptions } from "./recorder.js";

export function turnRecorderFromEnv(options: Omit<TurnRecorderOptions, "delivery">): TurnRecorder | undefined {
  const streamName = process.env[ENV.analyticsStream];
  if (!streamName) return undefined;
  const client = createFirehoseClient({ region: region(), endpoint: process.env[ENV.firehoseEndpoint] });
  return new TurnRecorder({ ...options, delivery: new FirehoseDelivery({ client, streamName }) });
}
