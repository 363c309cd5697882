/**
 * The event AppSync Events hands a DIRECT Lambda handler, and the caller it describes.
 * Only the fields the gateway reads are typed; the rest (stash, outErrors...) pass through.
 */
import { isCognitoSub } from "../protocol/channels.js";

export interface AppSyncCognitoIdentity {
  sub: string;
  issuer?: string;
  username?: string;
  claims?: Record<string, unknown>;
  sourceIp?: string[];
  defaultAuthStrategy?: string;
  /** Null when the token carries no groups (e.g. access tokens as Amplify sends them). */
  groups?: string[] | null;
}

export interface AppSyncEventsEvent {
  identity?: AppSyncCognitoIdentity | Record<string, unknown> | null;
  info: {
    channel: { path: string; segments: string[] };
    channelNamespace: { name: string };
    operation: "PUBLISH" | "SUBSCRIBE";
  };
  request?: { headers?: Record<string, string>; domainName?: string | null };
  events?: { id: string; payload: unknown }[] | null;
}

export interface Caller {
  sub: string;
  username?: string;
  groups: string[];
  sourceIp?: string;
}

/**
 * The Cognito caller of an event, or undefined for IAM and anonymous callers and for a `sub`
 * that is not a Cognito sub (no channel may be derived from it). Groups come from
 * `identity.groups`, else from the token's `cognito:groups` claim.
 */
export function cognitoCaller(event: Pick<AppSyncEventsEvent, "identity">): Caller | undefined {
  const identity = event.identity as AppSyncCognitoIdentity | null | undefined;
  if (!identity || !isCognitoSub(identity.sub)) return undefined;
  const claimGroups = identity.claims?.["cognito:groups"];
  const groups = Array.isArray(identity.groups)
    ? identity.groups
    : Array.isArray(claimGroups)
      ? claimGroups.filter((g): g is string => typeof g === "string")
      : typeof claimGroups === "string"
        ? claimGroups.split(/[\s,]+/).filter(Boolean)
        : [];
  return { sub: identity.sub, username: identity.username, groups, sourceIp: identity.sourceIp?.[0] };
}
