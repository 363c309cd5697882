/**
 * What each configured identity provider becomes in Cognito: its type, the ProviderDetails
 * keys Cognito documents for that type, and client secrets kept as Pulumi secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { identityProviderSpecs, type IdentityProviderSpec, type ProvidersConfig } from "../../components/lib/identityProviders.js";
import { parseGatewayConfig } from "../../functions/lib/config/parse.js";

const MODELS = [{ id: "us.amazon.nova-lite-v1:0", name: "Nova Lite", provider: "Amazon" }];
const TIERS = {
  default: {
    priority: 0,
    models: ["*"],
    limits: { daily: { inputTokens: 1, outputTokens: 1 }, monthly: { inputTokens: 1, outputTokens: 1 } },
    maxOutputTokensPerRequest: 100,
    maxConcurrentRequests: 1,
  },
};

/** Providers as the schema hands them over (defaults applied), from raw stack config. */
function providers(raw: Record<string, unknown>): ProvidersConfig {
  return parseGatewayConfig({ models: MODELS, tiers: TIERS, identity: { providers: raw } }).identity.providers;
}

function only(raw: Record<string, unknown>): IdentityProviderSpec {
  const specs = identityProviderSpecs(providers(raw));
  expect(specs).toHaveLength(1);
  return specs[0]!;
}

/** Every detail resolved, with whether it is a Pulumi secret. */
async function details(spec: IdentityProviderSpec): Promise<Record<string, { value: string; secret: boolean }>> {
  const entries = await Promise.all(
    Object.entries(spec.providerDetails).map(async ([key, input]) => {
      const output = pulumi.output(input);
      const value = await new Promise<string>((resolve) => output.apply(resolve));
      return [key, { value, secret: await pulumi.isSecret(output) }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const plainValues = (d: Awaited<ReturnType<typeof details>>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.value]));
const secretKeys = (d: Awaited<ReturnType<typeof details>>) => Object.keys(d).filter((k) => d[k]!.secret);

describe("identityProviderSpecs", () => {
  it("creates no provider when none is configured", () => {
    expect(identityProviderSpecs(providers({}))).toEqual([]);
  });

  it("configures Google with client id, secret and OpenID scopes, the secret a Pulumi secret", async () => {
    const spec = only({ google: { clientId: "g-id", clientSecret: "g-secret" } });
    expect(spec).toMatchObject({ key: "google", providerName: "Google", providerType: "Google" });
    expect(spec.attributeMapping).toEqual({ email: "email", username: "sub" });
    const d = await details(spec);
    expect(plainValues(d)).toEqual({ client_id: "g-id", client_secret: "g-secret", authorize_scopes: "openid email profile" });
    expect(secretKeys(d)).toEqual(["client_secret"]);
  });

  it("configures Facebook with Cognito's keys, comma-separated permissions and no API version unless set", async () => {
    const spec = only({ facebook: { clientId: "fb-id", clientSecret: "fb-secret" } });
    expect(spec).toMatchObject({ key: "facebook", providerName: "Facebook", providerType: "Facebook" });
    expect(spec.attributeMapping).toEqual({ email: "email", username: "id" });
    const d = await details(spec);
    expect(plainValues(d)).toEqual({ client_id: "fb-id", client_secret: "fb-secret", authorize_scopes: "public_profile, email" });
    expect(secretKeys(d)).toEqual(["client_secret"]);
  });

  it("pins Facebook's Graph API version as api_version when configured", async () => {
    const d = await details(only({ facebook: { clientId: "fb-id", clientSecret: "fb-secret", apiVersion: "v17.0" } }));
    expect(d.api_version).toEqual({ value: "v17.0", secret: false });
  });

  it("refuses a Facebook API version that is not one", () => {
    expect(() => providers({ facebook: { clientId: "fb-id", clientSecret: "fb-secret", apiVersion: "17" } })).toThrow(
      "ai-gateway:identity.providers.facebook.apiVersion",
    );
  });

  it("configures Login with Amazon under Cognito's type name, mapping its user_id", async () => {
    const spec = only({ amazon: { clientId: "amzn1.application-oa2-client.x", clientSecret: "a-secret" } });
    expect(spec).toMatchObject({ key: "amazon", providerName: "LoginWithAmazon", providerType: "LoginWithAmazon" });
    expect(spec.attributeMapping).toEqual({ email: "email", username: "user_id" });
    const d = await details(spec);
    expect(plainValues(d)).toEqual({ client_id: "amzn1.application-oa2-client.x", client_secret: "a-secret", authorize_scopes: "profile" });
    expect(secretKeys(d)).toEqual(["client_secret"]);
  });

  it("configures OIDC with issuer, GET attribute requests and space-separated scopes", async () => {
    const spec = only({
      oidc: { name: "Corp-SSO", issuer: "https://login.example.com", clientId: "o-id", clientSecret: "o-secret", scopes: ["openid", "email"] },
    });
    expect(spec).toMatchObject({ key: "oidc", providerName: "Corp-SSO", providerType: "OIDC" });
    expect(spec.attributeMapping).toEqual({ email: "email", username: "sub" });
    const d = await details(spec);
    expect(plainValues(d)).toEqual({
      client_id: "o-id",
      client_secret: "o-secret",
      authorize_scopes: "openid email",
      oidc_issuer: "https://login.example.com",
      attributes_request_method: "GET",
    });
    expect(secretKeys(d)).toEqual(["client_secret"]);
  });

  it("requests OpenID, e-mail and profile from an OIDC provider by default", async () => {
    const d = await details(only({ oidc: { name: "Corp", issuer: "https://login.example.com", clientId: "o", clientSecret: "s" } }));
    expect(d.authorize_scopes!.value).toBe("openid email profile");
  });

  it("configures SAML from its metadata URL, mapping the e-mail claim", async () => {
    const spec = only({ saml: { name: "Okta", metadataUrl: "https://idp.example.com/metadata.xml" } });
    expect(spec).toMatchObject({ key: "saml", providerName: "Okta", providerType: "SAML" });
    expect(spec.attributeMapping).toEqual({ email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" });
    const d = await details(spec);
    expect(plainValues(d)).toEqual({ MetadataURL: "https://idp.example.com/metadata.xml" });
    expect(secretKeys(d)).toEqual([]);
  });

  it("creates one provider per configured type, with distinct keys for resource names", () => {
    const specs = identityProviderSpecs(
      providers({
        google: { clientId: "g", clientSecret: "s" },
        facebook: { clientId: "f", clientSecret: "s" },
        amazon: { clientId: "a", clientSecret: "s" },
        oidc: { name: "Corp", issuer: "https://login.example.com", clientId: "o", clientSecret: "s" },
        saml: { name: "Okta", metadataUrl: "https://idp.example.com/metadata.xml" },
      }),
    );
    expect(specs.map((s) => s.key)).toEqual(["google", "facebook", "amazon", "oidc", "saml"]);
    expect(specs.map((s) => s.providerType)).toEqual(["Google", "Facebook", "LoginWithAmazon", "OIDC", "SAML"]);
  });
});
