/**
 * Which browser pages may use the Events server. A browser always sends `Origin` on
 * cross-origin requests, on POSTs and on WebSocket handshakes (also after a DNS rebinding
 * trick makes a hostile page look same-origin), so a request or upgrade that carries one is
 * served only when it is one of the gateway's own web origins. A request without `Origin`
 * comes from a non-browser client (Node, curl, Amplify in Node) and is judged by its
 * credentials alone.
 */
export type OriginVerdict = "no-origin" | "allowed" | "refused";

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  /** `allowedOrigins`: e.g. `["http://localhost:5173"]`; normalized to scheme://host[:port]. */
  constructor(allowedOrigins: readonly string[]) {
    this.allowed = new Set(allowedOrigins.map(normalizeOrigin));
  }

  judge(origin: string | string[] | undefined): OriginVerdict {
    if (origin === undefined) return "no-origin";
    // Two Origin headers, or the opaque "null" origin of sandboxed frames and file: pages, are never allowed.
    if (Array.isArray(origin) || origin === "null") return "refused";
    return this.allowed.has(origin.toLowerCase()) ? "allowed" : "refused";
  }
}

/** `http://LocalHost:5173/` -> `http://localhost:5173`; throws on something that is not an http(s) origin. */
export function normalizeOrigin(origin: string): string {
  const url = new URL(origin);
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" || url.search || url.hash || url.username) {
    throw new Error(`Events server: allowedOrigins entry "${origin}" is not an origin (scheme://host[:port]).`);
  }
  return url.origin.toLowerCase();
}
