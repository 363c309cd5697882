/**
 * What code printed to stdout while it ran (Powertools Logger and Metrics write there, as in
 * Lambda). `passThrough` keeps printing it too (vitest shows it for failing tests).
 */
export async function stdoutWhile(run: () => Promise<unknown>, options: { passThrough?: boolean } = {}): Promise<string[]> {
  const stop = captureStdout(options);
  try {
    await run();
  } finally {
    stop.restore();
  }
  return stop.chunks;
}

/** Starts capturing stdout; `restore()` ends it. For captures that span a test file's hooks. */
export function captureStdout(options: { passThrough?: boolean } = {}): { chunks: string[]; restore(): void } {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(String(chunk));
    return options.passThrough === false ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  return { chunks, restore: () => void (process.stdout.write = write) };
}

/** The JSON lines among captured chunks. */
export const jsonLines = (chunks: readonly string[]) =>
  chunks.flatMap((c) => c.split("\n")).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
