export { type LocalFirehose, type LocalFirehoseMetrics, type LocalFirehoseOptions, startLocalFirehose } from "./server.js";
export { type BufferingHints, DEFAULT_BUFFERING } from "./buffer.js";
export { ParquetWriter } from "./parquet.js";
