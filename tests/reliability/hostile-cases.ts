/**
 * Generated hostile channels and identities for the subscribe and publish paths. Every
 * channel here is one a caller must never be admitted to; every token one that must never
 * authenticate.
 */
import type { TokenIssuer } from "../../local/events/testing/token-issuer.js";

/** Replaces every character by its %XX form (UTF-8). */
const percentAll = (s: string) => [...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
/** Turns ASCII letters and digits into their full-width Unicode forms (NFKC folds them back). */
const fullWidth = (s: string) => s.replace(/[A-Za-z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
/** Cyrillic letters that look like Latin ones. */
const homoglyphs = (s: string) => s.replace(/a/g, "\u0430").replace(/e/g, "\u0435").replace(/c/g, "\u0441");
const flipFirstLetterCase = (s: string) => s.replace(/[a-f]/, (c) => c.toUpperCase());

/**
 * Channels under `namespace` that are not `/<namespace>/<sub>`: other users, case and encoding
 * variants, extra and missing segments, wildcards, overlong segments, other namespaces.
 */
export function hostileChannels(namespace: string, otherNamespace: string, sub: string, other: string): { name: string; channel: string }[] {
  const own = `/${namespace}/${sub}`;
  const list: [string, string][] = [
    ["another user's channel", `/${namespace}/${other}`],
    ["another user's channel without the leading slash", `${namespace}/${other}`],
    ["the other namespace, own sub", `/${otherNamespace}/${sub}`],
    ["the other namespace, another user", `/${otherNamespace}/${other}`],
    ["the sub in upper case", `/${namespace}/${sub.toUpperCase()}`],
    ["one letter of the sub in upper case", `/${namespace}/${flipFirstLetterCase(sub)}`],
    ["the namespace in lower case", `/${namespace.toLowerCase()}/${sub}`],
    ["the namespace in upper case", `/${namespace.toUpperCase()}/${sub}`],
    ["an extra segment", `${own}/x`],
    ["the sub twice", `${own}/${sub}`],
    ["four extra segments", `${own}/a/b/c/d`],
    ["an extra empty segment", `${own}/`],
    ["a doubled slash before the sub", `/${namespace}//${sub}`],
    ["a doubled leading slash", `/${own}`],
    ["the namespace alone", `/${namespace}`],
    ["the namespace with a trailing slash", `/${namespace}/`],
    ["the root", "/"],
    ["the empty channel", ""],
    ["the sub alone", `/${sub}`],
    ["the sub before the namespace", `/${sub}/${namespace}`],
    ["a wildcard for the sub", `/${namespace}/*`],
    ["a wildcard below the own channel", `${own}/*`],
    ["a wildcard for everything", "/*"],
    ["a wildcard namespace", `/*/${sub}`],
    ["a prefix wildcard", `/${namespace}/${sub.slice(0, 8)}*`],
    ["a question mark wildcard", `/${namespace}/${sub.slice(0, -1)}?`],
    ["a regex-like sub", `/${namespace}/.*`],
    ["a percent-encoded sub", `/${namespace}/${percentAll(sub)}`],
    ["a percent-encoded slash", `/${namespace}%2F${sub}`],
    ["a percent-encoded extra segment", `${own}%2Fx`],
    ["a percent-encoded wildcard", `/${namespace}/%2A`],
    ["a double-percent-encoded slash", `/${namespace}%252F${sub}`],
    ["a full-width sub", `/${namespace}/${fullWidth(sub)}`],
    ["a full-width namespace", `/${fullWidth(namespace)}/${sub}`],
    ["a Cyrillic look-alike sub", `/${namespace}/${homoglyphs(sub)}`],
    ["a Cyrillic look-alike namespace", `/${homoglyphs(namespace.toLowerCase())}/${sub}`],
    ["a zero-width space after the sub", `${own}\u200b`],
    ["a zero-width joiner inside the sub", `/${namespace}/${sub.slice(0, 4)}\u200d${sub.slice(4)}`],
    ["a combining accent on the sub", `${own}\u0301`],
    ["a right-to-left override", `/${namespace}/\u202e${sub}`],
    ["a NUL byte after the sub", `${own}\u0000`],
    ["a trailing space", `${own} `],
    ["a leading space", ` ${own}`],
    ["a tab inside", `/${namespace}/\t${sub}`],
    ["a newline after the sub", `${own}\n`],
    ["a dot segment", `/${namespace}/./${sub}`],
    ["a dot-dot segment", `/${namespace}/x/../${sub}`],
    ["a backslash separator", `/${namespace}\\${sub}`],
    ["a sub with a 60-character suffix", `${own}${"a".repeat(60)}`],
    ["an overlong sub segment", `/${namespace}/${"a".repeat(51)}`],
    ["a 10,000-character segment", `/${namespace}/${"b".repeat(10_000)}`],
    ["six segments", `${own}/1/2/3/4`],
    ["a query string", `${own}?x=1`],
    ["a fragment", `${own}#x`],
    ["a semicolon suffix", `${own};x`],
  ];
  return list.map(([name, channel]) => ({ name, channel }));
}

/** Tokens that must not authenticate anyone; each claims `sub`. */
export function hostileTokens(trusted: TokenIssuer, foreign: TokenIssuer, sub: string): { name: string; token: string }[] {
  const valid = trusted.accessToken({ sub });
  const [header, payload, signature] = valid.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  const reencode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  const list: [string, string][] = [
    ["a token signed by another key under the pool's key id", trusted.forgedToken({ sub })],
    ["an expired access token", trusted.accessToken({ sub, exp: hourAgo })],
    ["an expired id token", trusted.idToken({ sub, exp: hourAgo })],
    ["an access token for another app client", trusted.accessToken({ sub, clientId: "another-client" })],
    ["an id token for another audience", trusted.idToken({ sub, clientId: "another-client" })],
    ["an access token from another user pool", foreign.accessToken({ sub, clientId: trusted.clientId })],
    ["an id token from another user pool", foreign.idToken({ sub, clientId: trusted.clientId })],
    ["a token naming the pool as issuer but signed by another pool", foreign.accessToken({ sub, clientId: trusted.clientId, issuer: trusted.issuer })],
    ["a refresh-style token_use", trusted.accessToken({ sub, tokenUse: "refresh" as never })],
    ["a token with its claims changed after signing", `${header}.${reencode({ ...claims, sub: `${sub}0` })}.${signature}`],
    ["a token with its expiry extended after signing", `${header}.${reencode({ ...claims, exp: (claims.exp as number) + 86_400 })}.${signature}`],
    ["an unsigned token (alg none)", `${reencode({ alg: "none", kid: JSON.parse(Buffer.from(header, "base64url").toString()).kid })}.${payload}.`],
    ["a token with its signature removed", `${header}.${payload}.`],
    ["a token with a truncated signature", `${header}.${payload}.${signature.slice(0, 20)}`],
    ["a Bearer-prefixed forged token", `Bearer ${trusted.forgedToken({ sub })}`],
    ["garbage", "not-a-token"],
  ];
  return list.map(([name, token]) => ({ name, token }));
}
