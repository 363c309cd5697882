/**
 * Turns the authorization headers of a request or WebSocket message into a Caller, and checks
 * a Caller against the auth modes a namespace allows. A SigV4 `Authorization` header means
 * AWS_IAM; any other `Authorization` value is taken as a Cognito user pool token, as AppSync
 * does for APIs without API keys, OIDC or Lambda authorizers.
 */
import type { AuthMode } from "../../functions/lib/protocol/channels.js";
import type { VerifyCognitoToken } from "./cognito-auth.js";
import { unauthorized } from "./errors.js";
import type { Caller } from "./identity.js";
import { type IamCredentials, isSigV4Authorization, screenSigV4, verifySigV4 } from "./sigv4-auth.js";

export interface EventsAuthOptions {
  verifyCognitoToken: VerifyCognitoToken;
  iamCredentials: IamCredentials;
}

export interface AuthenticationInput {
  /** The headers carrying authorization (HTTP headers, or a message's `authorization` object). */
  headers: Record<string, string | string[] | undefined>;
  /** What a SigV4 signature covers: the HTTP request, or POST `/event` with the message's JSON. */
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  body: string;
}

function headerValue(headers: AuthenticationInput["headers"], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** The authenticated caller, or null when the credentials are missing or invalid. */
export async function authenticate(
  input: AuthenticationInput,
  auth: EventsAuthOptions,
  region: string,
): Promise<Caller | null> {
  const authorization = headerValue(input.headers, "authorization");
  if (!authorization) return null;
  if (isSigV4Authorization(authorization)) {
    const identity = await verifySigV4(input, auth.iamCredentials, region);
    return identity ? { mode: "AWS_IAM", identity } : null;
  }
  const identity = await auth.verifyCognitoToken(authorization);
  return identity ? { mode: "AMAZON_COGNITO_USER_POOLS", identity } : null;
}

/**
 * Whether a request's headers can possibly authenticate, decided before its body is read:
 * a Cognito token is verified in full (it does not cover the body); a SigV4 signature, which
 * covers the body, must name this server's key, region and service and be dated within the
 * clock window. False means: refuse without reading the body.
 */
export async function credentialsLookPlausible(
  headers: AuthenticationInput["headers"],
  auth: EventsAuthOptions,
  region: string,
): Promise<boolean> {
  const authorization = headerValue(headers, "authorization");
  if (!authorization) return false;
  if (isSigV4Authorization(authorization)) return screenSigV4(headers, auth.iamCredentials, region) !== null;
  return (await auth.verifyCognitoToken(authorization)) !== null;
}

/** Throws UnauthorizedException unless the caller authenticated with one of `modes`. */
export function requireAuthMode(caller: Caller | null, modes: readonly AuthMode[]): Caller {
  if (!caller || !modes.includes(caller.mode)) throw unauthorized();
  return caller;
}
