/**
 * Verifies AWS Signature Version 4 (service `appsync`) by recomputing the signature with the
 * AWS SDK's own signer over exactly the headers the caller signed, then comparing in constant
 * time. Used for `POST /event` and for the IAM headers carried in WebSocket messages, where
 * the signed "request" is a POST to `/event` whose body is the message's JSON.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { type HeaderInput, plainHeaders } from "./headers.js";
import type { IamIdentity } from "./identity.js";

export interface IamCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry this `x-amz-security-token`. */
  sessionToken?: string;
  /** Reported to handlers as `identity.accountId`. @default "000000000000" */
  accountId?: string;
  /** Reported to handlers as `identity.userArn`. @default `arn:aws:iam::<accountId>:user/local-gateway` */
  userArn?: string;
}

export interface SignedRequest {
  method: string;
  /** Path without the query string, e.g. `/event`. */
  path: string;
  query?: Record<string, string | string[]>;
  /** Header names in any case. */
  headers: HeaderInput;
  body: string;
}

const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";
/** AWS refuses signatures more than 5 minutes away from its clock. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export const isSigV4Authorization = (value: string | undefined): boolean =>
  typeof value === "string" && value.startsWith(`${SIGV4_ALGORITHM} `);

function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value === undefined ? null : AMZ_DATE.exec(value);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

function iamIdentity(credentials: IamCredentials): IamIdentity {
  const accountId = credentials.accountId ?? "000000000000";
  return {
    accountId,
    cognitoIdentityAuthProvider: null,
    cognitoIdentityAuthType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    userArn: credentials.userArn ?? `arn:aws:iam::${accountId}:user/local-gateway`,
    username: credentials.accessKeyId,
  };
}

/**
 * What can be checked without the body: the key id, region, service and a date within the
 * clock window. Lets a server refuse a request before reading (and holding) its body.
 */
export function screenSigV4(headerInput: HeaderInput, credentials: IamCredentials, region: string, now: Date = new Date()) {
  const headers = plainHeaders(headerInput);
  const match = AUTHORIZATION.exec(headers.authorization ?? "");
  if (!match) return null;
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = match;
  if (!sameText(accessKeyId!, credentials.accessKeyId) || scopeRegion !== region || scopeService !== "appsync") return null;
  const signingDate = parseAmzDate(headers["x-amz-date"]);
  if (!signingDate || headers["x-amz-date"]!.slice(0, 8) !== scopeDate) return null;
  // Both ways: a signature dated in the future is as stale as one from the past.
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) return null;
  return { headers, signingDate, signedHeaderList: signedHeaderList!, signature: signature! };
}

/**
 * The IAM identity when `request` carries a valid SigV4 signature by `credentials` for
 * `region`/`appsync`, else null (wrong key, region or service, a date more than 5 minutes
 * away in either direction, tampered header or body, bad format).
 */
export async function verifySigV4(
  request: SignedRequest,
  credentials: IamCredentials,
  region: string,
  now: Date = new Date(),
): Promise<IamIdentity | null> {
  const screened = screenSigV4(request.headers, credentials, region, now);
  if (!screened) return null;
  const { headers, signingDate, signedHeaderList, signature } = screened;

  // A declared payload hash is what the signer signs, so it must be the body's real hash.
  const declaredHash = headers["x-amz-content-sha256"];
  if (declaredHash !== undefined && declaredHash !== createHash("sha256").update(request.body).digest("hex")) {
    return null;
  }

  const signedNames = signedHeaderList!.split(";");
  if (!signedNames.includes("host") || !signedNames.includes("x-amz-date")) return null;
  const signedHeaders: Record<string, string> = {};
  for (const name of signedNames) {
    const value = headers[name];
    if (value === undefined) return null;
    signedHeaders[name] = value;
  }

  const signer = new SignatureV4({
    service: "appsync",
    region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    sha256: Sha256,
    // Never add headers the caller did not sign; the caller's own x-amz-content-sha256 is kept.
    applyChecksum: false,
  });
  const [hostname] = signedHeaders.host!.split(":");
  const resigned = await signer.sign(
    new HttpRequest({
      method: request.method.toUpperCase(),
      protocol: "https:",
      hostname,
      path: request.path,
      query: request.query ?? {},
      headers: signedHeaders,
      body: request.body,
    }),
    { signingDate, signableHeaders: new Set(signedNames) },
  );
  const expected = AUTHORIZATION.exec(String(resigned.headers.authorization ?? ""));
  if (!expected || expected[5] !== signedHeaderList) return null;
  return sameText(expected[6]!, signature) ? iamIdentity(credentials) : null;
}
