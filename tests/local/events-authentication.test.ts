import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, credentialsLookPlausible, type EventsAuthOptions, requireAuthMode } from "../../local/events/auth.js";
import { parseChannel } from "../../local/events/channels.js";
import { createCognitoVerifier } from "../../local/events/cognito-auth.js";
import { type IamCredentials, isSigV4Authorization, screenSigV4, verifySigV4 } from "../../local/events/sigv4-auth.js";
import { startTokenIssuer, type TokenIssuer } from "../../local/events/testing/token-issuer.js";

const REGION = "eu-west-1";
const credentials: IamCredentials = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };
const body = JSON.stringify({ channel: "/default/a", events: ["{}"] });

async function signed(date?: Date, secretAccessKey = credentials.secretAccessKey) {
  const signer = new SignatureV4({ service: "appsync", region: REGION, credentials: { ...credentials, secretAccessKey }, sha256: Sha256 });
  const request = await signer.sign(
    new HttpRequest({ method: "POST", protocol: "https:", hostname: "localhost", port: 8443, path: "/event", headers: { host: "localhost:8443", "content-type": "application/json" }, body }),
    { signingDate: date },
  );
  return { method: "POST", path: "/event", headers: request.headers as Record<string, string>, body };
}

let issuer: TokenIssuer;
let auth: EventsAuthOptions;
beforeAll(async () => {
  issuer = await startTokenIssuer("local_pool3", "client-3");
  auth = { verifyCognitoToken: createCognitoVerifier({ issuer: issuer.issuer, clientId: "client-3" }), iamCredentials: credentials };
});
afterAll(async () => issuer?.close());

describe("authenticating a request to the local Events server", () => {
  it("takes a SigV4 Authorization header, in any header case, as an IAM caller with the local identity", async () => {
    const request = await signed();
    const { authorization, ...rest } = request.headers;
    const caller = await authenticate({ ...request, headers: { ...rest, Authorization: authorization } }, auth, REGION);
    expect(caller).toEqual({
      mode: "AWS_IAM",
      identity: {
        accountId: "000000000000",
        cognitoIdentityAuthProvider: null,
        cognitoIdentityAuthType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        userArn: "arn:aws:iam::000000000000:user/local-gateway",
        username: "AKIDTEST",
      },
    });
  });

  it("reports the configured account and user ARN for IAM callers", async () => {
    const withAccount = { ...credentials, accountId: "123456789012" };
    expect(await verifySigV4(await signed(), withAccount, REGION)).toMatchObject({ accountId: "123456789012", userArn: "arn:aws:iam::123456789012:user/local-gateway" });
    const withArn = { ...withAccount, userArn: "arn:aws:iam::123456789012:role/gw" };
    expect(await verifySigV4(await signed(), withArn, REGION)).toMatchObject({ userArn: "arn:aws:iam::123456789012:role/gw" });
  });

  it("takes any other Authorization value as a Cognito token, the first of a repeated header", async () => {
    const token = issuer.idToken({ sub: "s-9", username: "bea" });
    const caller = await authenticate({ method: "POST", path: "/event", headers: { authorization: [token, "other"] }, body }, auth, REGION);
    expect(caller).toMatchObject({ mode: "AMAZON_COGNITO_USER_POOLS", identity: { sub: "s-9", username: "bea" } });
  });

  it("refuses no credentials, a bad signature and a bad token, without trying the other mode", async () => {
    expect(await authenticate({ method: "POST", path: "/event", headers: {}, body }, auth, REGION)).toBeNull();
    expect(await authenticate({ ...(await signed(undefined, "wrong")) }, auth, REGION)).toBeNull();
    expect(await authenticate({ method: "POST", path: "/event", headers: { authorization: issuer.forgedToken({ sub: "s-9" }) }, body }, auth, REGION)).toBeNull();
  });

  it("screens headers before the body: a plausible signature or a valid token passes, anything else does not", async () => {
    expect(await credentialsLookPlausible((await signed()).headers, auth, REGION)).toBe(true);
    expect(await credentialsLookPlausible((await signed()).headers, { ...auth, iamCredentials: { ...credentials, accessKeyId: "AKIDOTHER" } }, REGION)).toBe(false);
    expect(await credentialsLookPlausible({ authorization: issuer.accessToken({ sub: "s-1" }) }, auth, REGION)).toBe(true);
    expect(await credentialsLookPlausible({ authorization: issuer.forgedToken({ sub: "s-1" }) }, auth, REGION)).toBe(false);
    expect(await credentialsLookPlausible({}, auth, REGION)).toBe(false);
  });

  it("lets a caller through only in one of the namespace's auth modes", async () => {
    const caller = (await authenticate(await signed(), auth, REGION))!;
    expect(requireAuthMode(caller, ["AWS_IAM"])).toBe(caller);
    expect(() => requireAuthMode(caller, ["AMAZON_COGNITO_USER_POOLS"])).toThrow(expect.objectContaining({ errorType: "UnauthorizedException" }));
    expect(() => requireAuthMode(null, ["AWS_IAM"])).toThrow(expect.objectContaining({ errorType: "UnauthorizedException" }));
  });
});

describe("SigV4 headers, screened", () => {
  it("recognises the SigV4 scheme only at the start of the header", () => {
    expect(isSigV4Authorization("AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/appsync/aws4_request")).toBe(true);
    expect(isSigV4Authorization("AWS4-HMAC-SHA256Credential=x")).toBe(false);
    expect(isSigV4Authorization("Bearer AWS4-HMAC-SHA256 ")).toBe(false);
    expect(isSigV4Authorization(undefined)).toBe(false);
  });

  it("refuses another region or service from the headers alone", async () => {
    const { headers } = await signed();
    expect(screenSigV4(headers, credentials, "us-east-1")).toBeNull();
    expect(screenSigV4({ ...headers, authorization: headers.authorization!.replace("/appsync/", "/execute-api/") }, credentials, REGION)).toBeNull();
  });

  it("refuses a header with text before or after the signature", async () => {
    const { headers } = await signed();
    expect(screenSigV4({ ...headers, authorization: `x${headers.authorization}` }, credentials, REGION)).toBeNull();
    expect(await verifySigV4({ ...(await signed()), headers: { ...headers, authorization: `${headers.authorization}0` } }, credentials, REGION)).toBeNull();
  });

  it("refuses an x-amz-date that is malformed or names another day than the credential scope", async () => {
    const date = new Date("2025-03-04T10:00:00Z");
    const { headers } = await signed(date);
    expect(screenSigV4(headers, credentials, REGION, date)).not.toBeNull();
    expect(screenSigV4({ ...headers, "x-amz-date": "20250304T100000" }, credentials, REGION, date)).toBeNull();
    expect(screenSigV4({ ...headers, "x-amz-date": "20250304T100000Z0" }, credentials, REGION, date)).toBeNull();
    expect(screenSigV4({ ...headers, "x-amz-date": "020250304T100000Z" }, credentials, REGION, date)).toBeNull();
    const nextDay = new Date("2025-03-05T10:00:00Z");
    expect(screenSigV4({ ...headers, "x-amz-date": "20250305T100000Z" }, credentials, REGION, nextDay)).toBeNull();
  });

  it("takes the header's parts separated by commas with or without spaces, as AWS does", async () => {
    const request = await signed();
    const tight = request.headers.authorization!.replace(/, /g, ",");
    expect(tight).not.toBe(request.headers.authorization);
    expect(await verifySigV4({ ...request, headers: { ...request.headers, authorization: tight } }, credentials, REGION)).not.toBeNull();
  });

  it("accepts a signature exactly five minutes old", async () => {
    const date = new Date("2025-03-04T10:00:00Z");
    const { headers } = await signed(date);
    expect(screenSigV4(headers, credentials, REGION, new Date(date.getTime() + 5 * 60 * 1000))).not.toBeNull();
    expect(screenSigV4(headers, credentials, REGION, new Date(date.getTime() + 5 * 60 * 1000 + 1000))).toBeNull();
  });

  it("refuses a signature that does not sign the host, or signs a header the request lacks", async () => {
    const request = await signed();
    const noHost = request.headers.authorization!.replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;");
    expect(await verifySigV4({ ...request, headers: { ...request.headers, authorization: noHost } }, credentials, REGION)).toBeNull();
    const { "content-type": _dropped, ...withoutType } = request.headers;
    expect(await verifySigV4({ ...request, headers: withoutType }, credentials, REGION)).toBeNull();
  });
});

describe("Cognito tokens, claim by claim", () => {
  it("refuses a token without a sub, with an unknown token_use, or for another client", async () => {
    const verify = auth.verifyCognitoToken;
    expect(await verify(issuer.accessToken({ sub: "" }))).toBeNull();
    expect(await verify(issuer.accessToken({ sub: "s-1", tokenUse: "refresh" as "access" }))).toBeNull();
    expect(await verify(issuer.accessToken({ sub: "s-1", clientId: "client-other" }))).toBeNull();
    expect(await verify(issuer.idToken({ sub: "s-1", clientId: "client-other" }))).toBeNull();
  });

  it("keeps only string groups, and reports no groups when the claim is not a list", async () => {
    const verify = auth.verifyCognitoToken;
    expect(await verify(issuer.idToken({ sub: "s-1", extra: { "cognito:groups": ["pro", 5] } }))).toMatchObject({ groups: ["pro"] });
    expect(await verify(issuer.idToken({ sub: "s-1", extra: { "cognito:groups": "pro" } }))).toMatchObject({ groups: null });
  });

  it("finds the keys of an issuer written with a trailing slash", async () => {
    const verify = createCognitoVerifier({ issuer: `${issuer.issuer}/`, clientId: "client-3" });
    expect(await verify(issuer.accessToken({ sub: "s-4", issuer: `${issuer.issuer}/` }))).toMatchObject({ sub: "s-4" });
  });

  it("accepts a just-expired token only within the configured grace", async () => {
    const token = issuer.accessToken({ sub: "s-5", exp: Math.floor(Date.now() / 1000) - 10 });
    expect(await auth.verifyCognitoToken(token)).toBeNull();
    expect(await createCognitoVerifier({ issuer: issuer.issuer, clientId: "client-3", graceSeconds: 60 })(token)).toMatchObject({ sub: "s-5" });
  });
});

describe("channel paths, refused with the reason", () => {
  const namespaces = new Set(["default"]);
  const refusal = (raw: unknown, allowWildcard = true) => {
    try {
      parseChannel(raw, { allowWildcard, namespaces });
    } catch (error) {
      return (error as Error).message;
    }
    return "accepted";
  };

  it("names a missing channel, a bad path and an unknown namespace", () => {
    expect(refusal("")).toBe("A channel is required.");
    expect(refusal(42)).toBe("A channel is required.");
    expect(refusal("*")).toMatch(/^Invalid channel: use 1 to 5 segments/);
    expect(refusal("/default/bad_segment/*")).toMatch(/^Invalid channel/);
    expect(refusal("/nope/a")).toBe("Channel namespace 'nope' does not exist.");
    expect(refusal("/default/a/*", false)).toBe("Wildcard channels can only be subscribed to, not published to.");
    expect(refusal("/default/*")).toBe("accepted");
  });
});
