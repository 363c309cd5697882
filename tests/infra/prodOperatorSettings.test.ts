/**
 * The prod stack as an operator finishes it: AWS credential settings for the provider, an SES
 * sender for Cognito's mail, and federation through Facebook, Login with Amazon, OIDC and SAML.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { runMockedStack, type MockedStack } from "../../tools/mocked-stack.js";
import { one, ofType, T } from "./stackQueries.js";

const prodFile = parseYaml(readFileSync(new URL("../../Pulumi.prod.yaml", import.meta.url), "utf8")) as {
  config: Record<string, Record<string, unknown>>;
};
const SES_ARN = "arn:aws:ses:us-east-1:123456789012:identity/example.com";

let stack: MockedStack;
beforeAll(async () => {
  stack = await runMockedStack({
    stack: "prod",
    configOverrides: {
      "aws:profile": "gateway-prod",
      "aws:allowedAccountIds": ["210987654321"],
      "aws:assumeRoles": [{ roleArn: "arn:aws:iam::210987654321:role/deploy", sessionName: "pulumi" }],
      "aws:defaultTags": { tags: { "cost-center": "ml-42" } },
      identity: {
        ...prodFile.config["ai-gateway:identity"],
        sesSourceArn: SES_ARN,
        sesFromAddress: "AI Gateway <no-reply@example.com>",
        callbackUrls: ["https://chat.example.com/"],
        providers: {
          facebook: { clientId: "fb-id", clientSecret: "fb-secret", apiVersion: "v17.0" },
          amazon: { clientId: "amzn-id", clientSecret: "amzn-secret" },
          oidc: { name: "Corp-SSO", issuer: "https://login.example.com", clientId: "oidc-id", clientSecret: "oidc-secret" },
          saml: { name: "Okta", metadataUrl: "https://idp.example.com/metadata.xml" },
        },
      },
    },
  });
});
const resources = () => stack.resources;

describe("prod stack with operator AWS settings", () => {
  it("hands the stack's aws:profile, aws:allowedAccountIds and aws:assumeRoles to the provider", () => {
    const inputs = one(resources(), T.provider).inputs;
    expect(inputs.profile).toBe("gateway-prod");
    expect(inputs.region).toBe("us-east-1");
    // The provider JSON-encodes structured settings on their way to the engine.
    expect(JSON.parse(inputs.allowedAccountIds)).toEqual(["210987654321"]);
    expect(JSON.parse(inputs.assumeRoles)).toEqual([{ roleArn: "arn:aws:iam::210987654321:role/deploy", sessionName: "pulumi" }]);
  });

  it("tags resources with the operator's default tags and the gateway's own", () => {
    expect(JSON.parse(one(resources(), T.provider).inputs.defaultTags).tags).toEqual({
      "cost-center": "ml-42",
      "ai-gateway:project": "ai-gateway",
      "ai-gateway:stack": "prod",
    });
  });
});

describe("prod stack with an SES sender", () => {
  it("has Cognito send its mail through the verified SES identity", () => {
    expect(one(resources(), T.userPool).inputs.emailConfiguration).toEqual({
      emailSendingAccount: "DEVELOPER",
      sourceArn: SES_ARN,
      fromEmailAddress: "AI Gateway <no-reply@example.com>",
    });
  });
});

describe("prod stack with four federated providers", () => {
  const detailsOf = (suffix: string) => {
    const idp = one(resources(), T.idp, suffix);
    return { type: idp.inputs.providerType, name: idp.inputs.providerName, details: idp.inputs.providerDetails };
  };

  it("creates Facebook, Login with Amazon and OIDC with their client secrets encrypted", () => {
    for (const [suffix, type, secret] of [
      ["idp-facebook", "Facebook", "fb-secret"],
      ["idp-amazon", "LoginWithAmazon", "amzn-secret"],
      ["idp-oidc", "OIDC", "oidc-secret"],
    ] as const) {
      const { type: actual, details } = detailsOf(suffix);
      expect(actual).toBe(type);
      expect(details[pulumi.runtime.specialSigKey], suffix).toBe(pulumi.runtime.specialSecretSig);
      expect(details.value.client_secret).toBe(secret);
    }
    expect(detailsOf("idp-facebook").details.value).toMatchObject({ api_version: "v17.0", authorize_scopes: "public_profile, email" });
    expect(detailsOf("idp-oidc").details.value).toMatchObject({ oidc_issuer: "https://login.example.com", attributes_request_method: "GET" });
  });

  it("creates the SAML provider from its metadata URL", () => {
    expect(detailsOf("idp-saml")).toEqual({ type: "SAML", name: "Okta", details: { MetadataURL: "https://idp.example.com/metadata.xml" } });
  });

  it("offers every provider to the app client, after Cognito's own sign-in", () => {
    expect(ofType(resources(), T.idp)).toHaveLength(4);
    expect(one(resources(), T.client).inputs.supportedIdentityProviders).toEqual(["COGNITO", "Facebook", "LoginWithAmazon", "Corp-SSO", "Okta"]);
  });
});
