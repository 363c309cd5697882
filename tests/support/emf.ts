import { jsonLines, stdoutWhile } from "./stdout.js";

/** EMF metric lines a block of code printed to stdout (Powertools Metrics writes them there). */
export async function emfWhile(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  return jsonLines(await stdoutWhile(run)).filter((line) => "_aws" in line);
}
