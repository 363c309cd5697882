import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelMatches, parseChannel } from "../../local/events/channels.js";
import { createCognitoVerifier } from "../../local/events/cognito-auth.js";
import { type IamCredentials, screenSigV4, verifySigV4 } from "../../local/events/sigv4-auth.js";
import { startTokenIssuer, type TokenIssuer } from "../../local/events/testing/token-issuer.js";

const namespaces = new Set(["Outbound-Messages", "default"]);
const subscribe = (path: string) => parseChannel(path, { allowWildcard: true, namespaces });
const publish = (path: string) => parseChannel(path, { allowWildcard: false, namespaces });

describe("channel rules", () => {
  it("normalizes the optional leading slash and splits segments", () => {
    expect(publish("default/a/b")).toEqual({ path: "/default/a/b", segments: ["default", "a", "b"], namespace: "default", wildcard: false });
  });

  it("accepts one to five segments of letters, digits and hyphens up to 50 characters", () => {
    expect(publish("/default").segments).toEqual(["default"]);
    expect(publish(`/default/${"a".repeat(50)}/B-9/c/d`).segments).toHaveLength(5);
  });

  it.each(["", "/", "/default/", "/default/a.b", "/default/ä", "/default/a/b/c/d/e", `/default/${"a".repeat(51)}`, "/Default/a"])(
    "refuses %j",
    (path) => expect(() => publish(path)).toThrow(expect.objectContaining({ errorType: "BadRequestException" })),
  );

  it("allows a trailing wildcard on subscribe only", () => {
    expect(subscribe("/default/*")).toMatchObject({ wildcard: true, segments: ["default", "*"] });
    expect(() => publish("/default/*")).toThrow(/subscribed/);
    expect(() => subscribe("/*")).toThrow();
    expect(() => subscribe("/default/*/x")).toThrow();
  });

  it("matches a wildcard against every channel below its prefix at any depth, and nothing at the prefix itself", () => {
    const wildcard = subscribe("/default/a/*");
    expect(channelMatches(wildcard, publish("/default/a/b"))).toBe(true);
    expect(channelMatches(wildcard, publish("/default/a/b/c/d"))).toBe(true);
    expect(channelMatches(wildcard, publish("/default/a"))).toBe(false);
    expect(channelMatches(wildcard, publish("/default/ab/c"))).toBe(false);
    expect(channelMatches(subscribe("/default/a"), publish("/default/a/b"))).toBe(false);
    expect(channelMatches(subscribe("/default/a"), publish("default/a"))).toBe(true);
  });
});

describe("SigV4 verification", () => {
  const credentials: IamCredentials = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };
  const body = JSON.stringify({ channel: "/default/a", events: ["{}"] });

  async function signed(options: { applyChecksum?: boolean; region?: string; service?: string; date?: Date; sessionToken?: string } = {}) {
    const signer = new SignatureV4({
      service: options.service ?? "appsync",
      region: options.region ?? "eu-west-1",
      credentials: { ...credentials, sessionToken: options.sessionToken },
      sha256: Sha256,
      applyChecksum: options.applyChecksum ?? true,
    });
    const request = await signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: "https:",
        hostname: "localhost",
        port: 8443,
        path: "/event",
        headers: { host: "localhost:8443", "content-type": "application/json" },
        body,
      }),
      { signingDate: options.date },
    );
    return { method: "POST", path: "/event", headers: request.headers, body };
  }

  it("accepts what the AWS SDK signer signs, with or without a declared payload hash", async () => {
    expect(await verifySigV4(await signed(), credentials, "eu-west-1")).toMatchObject({ username: "AKIDTEST" });
    expect(await verifySigV4(await signed({ applyChecksum: false }), credentials, "eu-west-1")).not.toBeNull();
  });

  it("refuses another region, another service, or a signature older than five minutes", async () => {
    expect(await verifySigV4(await signed({ region: "us-east-1" }), credentials, "eu-west-1")).toBeNull();
    expect(await verifySigV4(await signed({ service: "execute-api" }), credentials, "eu-west-1")).toBeNull();
    const stale = await signed({ date: new Date(Date.now() - 6 * 60 * 1000) });
    expect(await verifySigV4(stale, credentials, "eu-west-1")).toBeNull();
  });

  it("refuses a signature dated more than five minutes in the future, and accepts one just inside the window", async () => {
    const ahead = await signed({ date: new Date(Date.now() + 6 * 60 * 1000) });
    expect(await verifySigV4(ahead, credentials, "eu-west-1")).toBeNull();
    const slightlyAhead = await signed({ date: new Date(Date.now() + 4 * 60 * 1000) });
    expect(await verifySigV4(slightlyAhead, credentials, "eu-west-1")).not.toBeNull();
  });

  it("screens out a future-dated signature from its headers alone, before any body is read", async () => {
    const ahead = await signed({ date: new Date(Date.now() + 6 * 60 * 1000) });
    expect(screenSigV4(ahead.headers, credentials, "eu-west-1")).toBeNull();
    expect(screenSigV4((await signed()).headers, credentials, "eu-west-1")).not.toBeNull();
  });

  it("refuses a changed signed header or a changed body", async () => {
    const request = await signed();
    expect(await verifySigV4({ ...request, headers: { ...request.headers, "content-type": "text/plain" } }, credentials, "eu-west-1")).toBeNull();
    expect(await verifySigV4({ ...request, body: `${body} ` }, credentials, "eu-west-1")).toBeNull();
  });

  it("requires the configured session token when there is one", async () => {
    const withToken = { ...credentials, sessionToken: "token-1" };
    expect(await verifySigV4(await signed({ sessionToken: "token-1" }), withToken, "eu-west-1")).not.toBeNull();
    expect(await verifySigV4(await signed({ sessionToken: "token-2" }), withToken, "eu-west-1")).toBeNull();
    expect(await verifySigV4(await signed(), withToken, "eu-west-1")).toBeNull();
  });
});

describe("Cognito verification", () => {
  let issuer: TokenIssuer;
  beforeAll(async () => {
    issuer = await startTokenIssuer("local_pool2", "client-2");
  });
  afterAll(async () => issuer?.close());

  it("accepts id and access tokens from an http issuer and reports AppSync's identity fields", async () => {
    const verify = createCognitoVerifier({ issuer: issuer.issuer, clientId: "client-2" });
    expect(await verify(issuer.idToken({ sub: "s-1", username: "ann", groups: ["pro", "free"] }))).toMatchObject({
      sub: "s-1",
      issuer: issuer.issuer,
      username: "ann",
      groups: ["pro", "free"],
      defaultAuthStrategy: "ALLOW",
      claims: { aud: "client-2", token_use: "id" },
    });
    const fromAccess = await verify(issuer.accessToken({ sub: "s-1", username: "ann" }));
    expect(fromAccess).toMatchObject({ sub: "s-1", username: "ann", groups: null, claims: { client_id: "client-2" } });
    expect(fromAccess!.claims).not.toHaveProperty("aud");
  });

  it("uses an explicit JWKS URI when the issuer's host is not where the keys are served", async () => {
    const verify = createCognitoVerifier({ issuer: "http://localhost:9229/local_pool2", clientId: "client-2", jwksUri: issuer.jwksUri });
    const token = issuer.accessToken({ sub: "s-2", issuer: "http://localhost:9229/local_pool2" });
    expect(await verify(token)).toMatchObject({ sub: "s-2" });
  });

  it("refuses a token whose JWKS cannot be fetched", async () => {
    const verify = createCognitoVerifier({ issuer: issuer.issuer, clientId: "client-2", jwksUri: "http://127.0.0.1:1/jwks.json" });
    expect(await verify(issuer.accessToken({ sub: "s-3" }))).toBeNull();
  });
});
