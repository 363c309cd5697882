/**
 * Who may use the gateway: a Cognito user pool (email sign-in), one public app client for the
 * web UI and SDKs, one group per tier, and optionally a hosted-UI domain and federated
 * identity providers.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { tierGroupPrecedence } from "../functions/lib/routing/tier.js";
import { identityProviderSpecs } from "./lib/identityProviders.js";


export interface IdentityArgs {
  /** `ai-gateway:identity`: sign-up, MFA, SES sender, hosted UI and federation. */
  identity: GatewayConfig["identity"];
  /** `ai-gateway:tiers`; each becomes a group of the same name. */
  tiers: GatewayConfig["tiers"];
  /** Refuse deleting the user pool (and its users). @default false */
  deletionProtection?: boolean;
  /**
   * URLs of apps deployed with the stack (the web app), added to the client's callback and
   * sign-out URLs beside `identity.callbackUrls`/`logoutUrls`. @default []
   */
  appUrls?: pulumi.Input<string>[];
}

export class Identity extends pulumi.ComponentResource {
  readonly userPool: aws.cognito.UserPool;
  readonly client: aws.cognito.UserPoolClient;
  readonly groups: Record<string, aws.cognito.UserGroup> = {};
  readonly domain?: aws.cognito.UserPoolDomain;

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Identity", name, {}, opts);
    const { identity } = args;
    const deletionProtection = args.deletionProtection ?? false;

    this.userPool = new aws.cognito.UserPool(
      `${name}-pool`,
      {
        usernameAttributes: ["email"],
        usernameConfiguration: { caseSensitive: false },
        autoVerifiedAttributes: ["email"],
        passwordPolicy: {
          minimumLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireNumbers: true,
          requireSymbols: true,
          temporaryPasswordValidityDays: 3,
        },
        mfaConfiguration: identity.mfa,
        // TOTP apps only: SMS would need an SNS role and a spending limit per account.
        softwareTokenMfaConfiguration: identity.mfa === "OFF" ? undefined : { enabled: true },
        adminCreateUserConfig: { allowAdminCreateUserOnly: !identity.selfSignUp },
        accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
        emailConfiguration: identity.sesSourceArn
          ? { emailSendingAccount: "DEVELOPER", sourceArn: identity.sesSourceArn, fromEmailAddress: identity.sesFromAddress }
          : { emailSendingAccount: "COGNITO_DEFAULT" },
        deletionProtection: deletionProtection ? "ACTIVE" : "INACTIVE",
      },
      { parent: this, protect: deletionProtection },
    );

    const providers = identityProviderSpecs(identity.providers).map(
      (spec) =>
        new aws.cognito.IdentityProvider(
          `${name}-idp-${spec.key}`,
          {
            userPoolId: this.userPool.id,
            providerName: spec.providerName,
            providerType: spec.providerType,
            providerDetails: spec.providerDetails,
            attributeMapping: spec.attributeMapping,
          },
          { parent: this },
        ),
    );

    // Hosted UI and federation need an OAuth flow, which Cognito accepts only with callbacks.
    const appUrls = args.appUrls ?? [];
    const oauth = identity.callbackUrls.length > 0 || appUrls.length > 0;
    this.client = new aws.cognito.UserPoolClient(
      `${name}-client`,
      {
        userPoolId: this.userPool.id,
        generateSecret: false,
        explicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        preventUserExistenceErrors: "ENABLED",
        enableTokenRevocation: true,
        accessTokenValidity: 60,
        idTokenValidity: 60,
        refreshTokenValidity: 30,
        tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
        supportedIdentityProviders: providers.length ? ["COGNITO", ...providers.map((p) => p.providerName)] : ["COGNITO"],
        ...(oauth
          ? {
              allowedOauthFlowsUserPoolClient: true,
              allowedOauthFlows: ["code"],
              allowedOauthScopes: ["openid", "email", "profile"],
              callbackUrls: [...identity.callbackUrls, ...appUrls],
              logoutUrls: [...identity.logoutUrls, ...appUrls],
            }
          : {}),
      },
      // The client may name a provider only once it exists.
      { parent: this, dependsOn: providers },
    );

    for (const [tier, { priority }] of Object.entries(args.tiers)) {
      this.groups[tier] = new aws.cognito.UserGroup(
        `${name}-group-${tier}`,
        {
          userPoolId: this.userPool.id,
          name: tier,
          precedence: tierGroupPrecedence(priority),
          description: `Gateway tier "${tier}" (priority ${priority})`,
        },
        { parent: this },
      );
    }

    if (identity.domainPrefix) {
      this.domain = new aws.cognito.UserPoolDomain(
        `${name}-domain`,
        { domain: identity.domainPrefix, userPoolId: this.userPool.id },
        { parent: this },
      );
    }

    this.registerOutputs({ userPoolId: this.userPool.id, userPoolClientId: this.client.id });
  }
}
