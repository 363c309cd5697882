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

/** What a block of code printed (stdout and stderr) as Powertools lines: log lines and EMF metric lines apart, not passed through. */
export async function printedWhile(run: () => Promise<unknown>): Promise<{ logs: Record<string, unknown>[]; metrics: Record<string, unknown>[] }> {
  const lines = jsonLines(await stdoutWhile(run, { passThrough: false, stderr: true }));
  return { logs: lines.filter((line) => !("_aws" in line)), metrics: lines.filter((line) => "_aws" in line) };
}

/** The log lines whose message is `message`. */
export const withMessage = (logs: readonly Record<string, unknown>[], message: string) => logs.filter((line) => line.message === message);

/** The log lines at `level` (Powertools' upper-case level names). */
export const atLevel = (logs: readonly Record<string, unknown>[], level: "DEBUG" | "INFO" | "WARN" | "ERROR") => logs.filter((line) => line.level === level);
