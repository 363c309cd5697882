/**
 * The AWS SDK's default credential chain as deployed functions need it. Lambda hands a
 * function its role's credentials in environment variables, so the chain's first link is the
 * only one that ever answers there; the others (SSO, ini profiles, credential processes, web
 * identity, container and instance metadata) add ~100 KB of bundle and nothing else.
 *
 * components/lib/bundle.ts substitutes this module for `@aws-sdk/credential-provider-node` in
 * every function bundle (the SDK clients import it from there too). Code that runs unbundled,
 * local mode and tests, keeps the full chain, so `npm start -- --model bedrock` still finds a
 * developer's profile or SSO session.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

type ProviderInit = Parameters<typeof fromEnv>[0];

/** Same signature as `@aws-sdk/credential-provider-node`'s `defaultProvider`. */
export const defaultProvider = (init: ProviderInit = {}): AwsCredentialIdentityProvider => fromEnv(init);

/** The rest of `@aws-sdk/credential-provider-node`'s exports, with its semantics. */
export const credentialsWillNeedRefresh = (credentials?: AwsCredentialIdentity): boolean => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials?: AwsCredentialIdentity): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
