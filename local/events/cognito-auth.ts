/**
 * Verifies Cognito user pool tokens the way AppSync does: signature against the pool's JWKS,
 * issuer, expiry, the app client, and `token_use` of either `id` or `access` (Amplify sends
 * access tokens). Built on aws-jwt-verify's generic JwtVerifier because its Cognito verifier
 * only accepts `https://cognito-idp.*` issuers, and cognito-local's issuer is
 * `http://localhost:9229/<poolId>`; its default fetcher is HTTPS-only, so JWKS are fetched
 * here with Node's fetch, which speaks both.
 */
import { JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { Fetcher } from "aws-jwt-verify/https";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import type { CognitoIdentity } from "./identity.js";

export interface CognitoVerifierOptions {
  /** The `iss` claim the tokens carry, e.g. `http://localhost:9229/local_abc`. */
  issuer: string;
  /** The user pool client the tokens were issued to (`aud` of id tokens, `client_id` of access tokens). */
  clientId: string;
  /** Where the signing keys are. @default `${issuer}/.well-known/jwks.json` */
  jwksUri?: string;
  /** Clock skew allowed on `exp`/`nbf`. @default 0 */
  graceSeconds?: number;
}

export type VerifyCognitoToken = (token: string) => Promise<CognitoIdentity | null>;

/** A JWKS fetcher for http:// and https:// URIs alike. */
const anySchemeFetcher: Fetcher = {
  async fetch(uri) {
    const response = await fetch(uri, { signal: AbortSignal.timeout(5_000) });
    if (response.status !== 200) throw new Error(`JWKS request failed with status ${response.status}`);
    return response.arrayBuffer();
  },
};

class TokenClaimsError extends Error {}

function checkCognitoClaims(payload: JwtPayload, clientId: string): void {
  const tokenUse = payload.token_use;
  if (tokenUse === "id") {
    const aud = payload.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(clientId)) throw new TokenClaimsError("id token for another client");
  } else if (tokenUse === "access") {
    if (payload.client_id !== clientId) throw new TokenClaimsError("access token for another client");
  } else {
    throw new TokenClaimsError("token_use must be id or access");
  }
  if (typeof payload.sub !== "string" || payload.sub === "") throw new TokenClaimsError("token has no sub");
}

function identityFromClaims(payload: JwtPayload): CognitoIdentity {
  const claims = payload as Record<string, unknown>;
  const username = claims["cognito:username"] ?? claims.username ?? payload.sub;
  const groups = claims["cognito:groups"];
  return {
    sub: payload.sub as string,
    issuer: payload.iss as string,
    username: String(username),
    claims,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string") : null,
    defaultAuthStrategy: "ALLOW",
  };
}

/**
 * Returns a verifier that resolves to the caller's identity, or to null for any token that is
 * malformed, forged, expired, for another pool or client, or whose keys cannot be fetched.
 */
export function createCognitoVerifier(options: CognitoVerifierOptions): VerifyCognitoToken {
  const verifier = JwtVerifier.create(
    {
      issuer: options.issuer,
      jwksUri: options.jwksUri ?? `${options.issuer.replace(/\/$/, "")}/.well-known/jwks.json`,
      // The client is checked per token_use in customJwtCheck: access tokens have no `aud`.
      audience: null,
      graceSeconds: options.graceSeconds ?? 0,
      customJwtCheck: ({ payload }) => checkCognitoClaims(payload, options.clientId),
    },
    { jwksCache: new SimpleJwksCache({ fetcher: anySchemeFetcher }) },
  );
  return async (token) => {
    if (typeof token !== "string" || token.split(".").length !== 3) return null;
    try {
      return identityFromClaims(await verifier.verify(token));
    } catch {
      // Every failure is the same refusal to the caller; the reason stays here.
      return null;
    }
  };
}
