/**
 * Header maps as handlers (`request.headers`) and the SigV4 check read them, whether they came
 * from an HTTP request or from a WebSocket message's `authorization` object.
 */
export type HeaderInput = Record<string, string | string[] | undefined>;

/** Names lower-cased, repeated values joined with commas, absent ones and `omit` (lower-case names) dropped. */
export function plainHeaders(headers: HeaderInput, omit: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value === undefined || omit.includes(key)) continue;
    out[key] = Array.isArray(value) ? value.join(",") : value;
  }
  return out;
}
