/** `npm run web:size`: builds web/ if stale and prints each output file's size, raw and gzip (what a phone downloads). */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ensureWebBuild, webFiles } from "./build.js";

const { dir } = await ensureWebBuild({ log: console.log });
let raw = 0;
let gzip = 0;
for (const file of webFiles(dir)) {
  const bytes = await readFile(join(dir, file));
  const zipped = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gzip += zipped;
  console.log(`${file.padEnd(36)} ${(bytes.length / 1024).toFixed(1).padStart(8)} KiB ${(zipped / 1024).toFixed(1).padStart(8)} KiB gzip`);
}
console.log(`${"total".padEnd(36)} ${(raw / 1024).toFixed(1).padStart(8)} KiB ${(gzip / 1024).toFixed(1).padStart(8)} KiB gzip`);
