/**
 * `config.json`, served beside the page: where the gateway is. Written by `npm start`
 * (local/web.ts) and by the WebApp component from the stack's outputs, so one build of the
 * page works against any deployment. This type is that contract for both writers.
 */
export interface WebConfig {
  region: string;
  /** A name shown in the page title and the TOTP app ("ai-gateway dev"). */
  appName: string;
  events: {
    /** `https://<host>/event`; its host goes into every authorization header. */
    httpEndpoint: string;
    /** `wss://<host>/event/realtime`; locally `ws://localhost:<port>/event/realtime`. */
    realtimeEndpoint: string;
  };
  cognito: {
    userPoolId: string;
    userPoolClientId: string;
    /** cognito-local's URL; absent on AWS. */
    endpoint?: string;
    /** cognito-local supports USER_PASSWORD_AUTH only; AWS uses SRP (no password on the wire). */
    authFlow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
    /** `OFF`, `OPTIONAL` or `ON` (the stack's `identity.mfa`). */
    mfa: "OFF" | "OPTIONAL" | "ON";
    /** The hosted UI, when the stack has a domain and callback URLs (federated sign-in). */
    oauth?: {
      domain: string;
      scopes: string[];
      redirectSignIn: string[];
      redirectSignOut: string[];
      /** Cognito provider names: "Google", "Facebook", "LoginWithAmazon", or a custom OIDC/SAML name. */
      providers: string[];
    };
  };
  /** Local mode only: one demo user per tier, listed on the sign-in page. */
  demoUsers?: { username: string; password: string; tier: string }[];
}

/** Checks the fields the page cannot work without and names the first one missing. */
export function parseWebConfig(value: unknown): WebConfig {
  const config = value as WebConfig;
  const required: [string, unknown][] = [
    ["region", config?.region],
    ["events.httpEndpoint", config?.events?.httpEndpoint],
    ["events.realtimeEndpoint", config?.events?.realtimeEndpoint],
    ["cognito.userPoolId", config?.cognito?.userPoolId],
    ["cognito.userPoolClientId", config?.cognito?.userPoolClientId],
  ];
  const missing = required.find(([, v]) => typeof v !== "string" || v === "");
  if (missing) throw new Error(`config.json has no ${missing[0]}.`);
  return {
    ...config,
    appName: config.appName || "AI Gateway",
    cognito: { ...config.cognito, authFlow: config.cognito.authFlow ?? "USER_SRP_AUTH", mfa: config.cognito.mfa ?? "OFF" },
  };
}
