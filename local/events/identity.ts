/**
 * Who is calling, in the shapes AppSync hands a handler as `identity` (the server adds
 * `sourceIp`). Verifiers return these; the server never looks inside a token itself.
 */
import type { AuthMode } from "../../functions/lib/protocol/channels.js";

export interface CognitoIdentity {
  sub: string;
  issuer: string;
  username: string;
  /** Every claim of the verified token (an access token has `client_id`, not `aud`). */
  claims: Record<string, unknown>;
  /** `cognito:groups`, or null when the token carries none, as AppSync reports it. */
  groups: string[] | null;
  defaultAuthStrategy: "ALLOW";
}

export interface IamIdentity {
  accountId: string;
  cognitoIdentityAuthProvider: null;
  cognitoIdentityAuthType: null;
  cognitoIdentityId: null;
  cognitoIdentityPoolId: null;
  userArn: string;
  username: string;
}

export type Caller =
  | { mode: "AMAZON_COGNITO_USER_POOLS"; identity: CognitoIdentity }
  | { mode: "AWS_IAM"; identity: IamIdentity };

export type HandlerIdentity = (CognitoIdentity | IamIdentity) & { sourceIp: string[] };

export function handlerIdentity(caller: Caller, sourceIp: string): HandlerIdentity {
  return { ...caller.identity, sourceIp: [sourceIp] };
}

export type { AuthMode };
