/**
 * Federated sign-in: what each configured provider becomes in Cognito. Client secrets are
 * wrapped as Pulumi secrets, so they stay encrypted in the state and hidden in previews.
 * `providerDetails` keys are Cognito's per provider type (CreateIdentityProvider,
 * ProviderDetails): client_id, client_secret and authorize_scopes for the social providers,
 * plus api_version for Facebook; oidc_issuer and attributes_request_method for OIDC;
 * MetadataURL for SAML.
 */
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../../functions/lib/config/schema.js";

export type ProvidersConfig = GatewayConfig["identity"]["providers"];

export interface IdentityProviderSpec {
  /** Logical key used in the resource name. */
  key: string;
  /** The name Cognito and the app client know the provider by. */
  providerName: string;
  providerType: "Google" | "Facebook" | "LoginWithAmazon" | "OIDC" | "SAML";
  providerDetails: Record<string, pulumi.Input<string>>;
  attributeMapping: Record<string, string>;
}

export function identityProviderSpecs(providers: ProvidersConfig): IdentityProviderSpec[] {
  const specs: IdentityProviderSpec[] = [];
  const social = (client: { clientId: string; clientSecret: string }, scopes: string) => ({
    client_id: client.clientId,
    client_secret: pulumi.secret(client.clientSecret),
    authorize_scopes: scopes,
  });
  if (providers.google) {
    specs.push({
      key: "google",
      providerName: "Google",
      providerType: "Google",
      providerDetails: social(providers.google, "openid email profile"),
      attributeMapping: { email: "email", username: "sub" },
    });
  }
  if (providers.facebook) {
    specs.push({
      key: "facebook",
      providerName: "Facebook",
      providerType: "Facebook",
      providerDetails: {
        // Cognito's documented form: comma-separated Facebook permissions.
        ...social(providers.facebook, "public_profile, email"),
        ...(providers.facebook.apiVersion ? { api_version: providers.facebook.apiVersion } : {}),
      },
      attributeMapping: { email: "email", username: "id" },
    });
  }
  if (providers.amazon) {
    specs.push({
      key: "amazon",
      providerName: "LoginWithAmazon",
      providerType: "LoginWithAmazon",
      providerDetails: social(providers.amazon, "profile"),
      attributeMapping: { email: "email", username: "user_id" },
    });
  }
  if (providers.oidc) {
    specs.push({
      key: "oidc",
      providerName: providers.oidc.name,
      providerType: "OIDC",
      providerDetails: {
        ...social(providers.oidc, providers.oidc.scopes.join(" ")),
        oidc_issuer: providers.oidc.issuer,
        attributes_request_method: "GET",
      },
      attributeMapping: { email: "email", username: "sub" },
    });
  }
  if (providers.saml) {
    specs.push({
      key: "saml",
      providerName: providers.saml.name,
      providerType: "SAML",
      providerDetails: { MetadataURL: providers.saml.metadataUrl },
      attributeMapping: { email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" },
    });
  }
  return specs;
}
