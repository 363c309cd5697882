export { type LocalFirehose, type LocalFirehoseOptions, startLocalFirehose } from "./server.js";
export { ParquetWriter } from "./parquet.js";
