/**
 * The chat page's security headers, one definition for the local server (local/web.ts) and
 * CloudFront's response headers policy (components/webApp.ts). The CSP allows scripts and
 * styles from the page's own origin only, and connections to exactly the gateway's Events
 * endpoints and Cognito; model answers are rendered without raw HTML, so nothing inline runs.
 */
export interface PageOrigins {
  /** Every URL the page calls: Events HTTP and realtime endpoints, Cognito (IdP and hosted UI). */
  connect: string[];
}

/** `https://host/event` -> `https://host`: CSP sources are origins. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

export function contentSecurityPolicy({ connect }: PageOrigins): string {
  const sources = [...new Set(connect.map(originOf))].sort();
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${sources.join(" ")}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The other headers, as name -> value (the local server sends exactly these). */
export const STATIC_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
  "cross-origin-opener-policy": "same-origin",
};
