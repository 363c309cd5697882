/**
 * A stand-in Cognito user pool for tests that run before cognito-local is wired in: an RSA
 * key, a JWKS served from a loopback HTTP server at `<issuer>/.well-known/jwks.json`, and
 * id/access tokens shaped like Cognito's, signed RS256.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { createServer, type Server } from "node:http";

export interface TokenClaims {
  sub: string;
  username?: string;
  groups?: string[];
  /** Seconds since the epoch. @default one hour from now */
  exp?: number;
  clientId?: string;
  issuer?: string;
  tokenUse?: "id" | "access";
  extra?: Record<string, unknown>;
}

export interface TokenIssuer {
  issuer: string;
  clientId: string;
  jwksUri: string;
  idToken(claims: TokenClaims): string;
  accessToken(claims: TokenClaims): string;
  /** A token naming the pool's key id but signed by another key. */
  forgedToken(claims: TokenClaims): string;
  close(): Promise<void>;
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

function keyPair() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, kid: randomUUID() };
}

export async function startTokenIssuer(poolId = "local_testpool", clientId = "test-client-id"): Promise<TokenIssuer> {
  const trusted = keyPair();
  const untrusted = keyPair();
  const jwk = { ...createPublicKey(trusted.privateKey).export({ format: "jwk" }), kid: trusted.kid, alg: "RS256", use: "sig" };
  const server: Server = createServer((req, res) => {
    if (req.url === `/${poolId}/.well-known/jwks.json`) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}/${poolId}`;

  const token = (claims: TokenClaims, tokenUse: "id" | "access", key = trusted) => {
    const now = Math.floor(Date.now() / 1000);
    const client = claims.clientId ?? clientId;
    const username = claims.username ?? claims.sub;
    const payload: Record<string, unknown> = {
      sub: claims.sub,
      iss: claims.issuer ?? issuer,
      token_use: claims.tokenUse ?? tokenUse,
      auth_time: now,
      iat: now,
      exp: claims.exp ?? now + 3600,
      jti: randomUUID(),
      ...(claims.groups ? { "cognito:groups": claims.groups } : {}),
      ...(tokenUse === "id"
        ? { aud: client, "cognito:username": username, email: `${username}@example.com` }
        : { client_id: client, username, scope: "aws.cognito.signin.user.admin" }),
      ...claims.extra,
    };
    const signingInput = `${b64url({ kid: key.kid, alg: "RS256" })}.${b64url(payload)}`;
    return `${signingInput}.${sign("RSA-SHA256", Buffer.from(signingInput), key.privateKey).toString("base64url")}`;
  };

  return {
    issuer,
    clientId,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    idToken: (claims) => token(claims, "id"),
    accessToken: (claims) => token(claims, "access"),
    forgedToken: (claims) => token(claims, "access", { privateKey: untrusted.privateKey, kid: trusted.kid }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
