/**
 * What code printed while it ran: Powertools Logger and Metrics write to stdout (INFO, DEBUG,
 * EMF) and to stderr (WARN, ERROR through `console.warn` / `console.error`), as in Lambda.
 * `passThrough` keeps printing it too (vitest shows it for failing tests).
 */
export async function stdoutWhile(run: () => Promise<unknown>, options: CaptureOptions = {}): Promise<string[]> {
  const stop = captureStdout(options);
  try {
    await run();
  } finally {
    stop.restore();
  }
  return stop.chunks;
}

interface CaptureOptions {
  passThrough?: boolean;
  /** Capture stderr as well, into the same chunks (where WARN and ERROR lines go). */
  stderr?: boolean;
}

/** Starts capturing stdout (and stderr, if asked); `restore()` ends it. For captures that span a test file's hooks. */
export function captureStdout(options: CaptureOptions = {}): { chunks: string[]; restore(): void } {
  const chunks: string[] = [];
  const streams = options.stderr ? [process.stdout, process.stderr] : [process.stdout];
  const writes = streams.map((stream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(String(chunk));
      return options.passThrough === false ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    return () => void (stream.write = write);
  });
  return { chunks, restore: () => writes.forEach((restore) => restore()) };
}

/** The JSON lines among captured chunks. */
export const jsonLines = (chunks: readonly string[]) =>
  chunks.flatMap((c) => c.split("\n")).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
