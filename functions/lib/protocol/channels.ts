/**
 * The channel contract: namespace names, who may publish and subscribe where, and what a
 * user's own channel is. The EventApi component and the local Events server both read the
 * auth modes from here, so the two cannot drift apart.
 */
export type AuthMode = "AMAZON_COGNITO_USER_POOLS" | "AWS_IAM";

export interface NamespaceContract {
  name: string;
  publishAuthModes: AuthMode[];
  subscribeAuthModes: AuthMode[];
  /** Which function AppSync calls, and how. */
  handler: { event: "onPublish" | "onSubscribe"; invokeType: "EVENT" | "REQUEST_RESPONSE" };
}

export const INBOUND_NAMESPACE = "Inbound-Messages";
export const OUTBOUND_NAMESPACE = "Outbound-Messages";

export const NAMESPACES: Record<"inbound" | "outbound", NamespaceContract> = {
  inbound: {
    name: INBOUND_NAMESPACE,
    publishAuthModes: ["AMAZON_COGNITO_USER_POOLS"],
    subscribeAuthModes: ["AWS_IAM"],
    handler: { event: "onPublish", invokeType: "EVENT" },
  },
  outbound: {
    name: OUTBOUND_NAMESPACE,
    publishAuthModes: ["AWS_IAM"],
    subscribeAuthModes: ["AMAZON_COGNITO_USER_POOLS"],
    handler: { event: "onSubscribe", invokeType: "REQUEST_RESPONSE" },
  },
};

export const outboundChannel = (sub: string) => `/${OUTBOUND_NAMESPACE}/${sub}`;

/**
 * Cognito subs are UUIDs. Anything else (`*`, a path, an IAM or federated identity passed off
 * as a sub) is not a user, and a channel named after it could be a wildcard or someone else's.
 */
const COGNITO_SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isCognitoSub(sub: unknown): sub is string {
  return typeof sub === "string" && COGNITO_SUB.test(sub);
}

/**
 * A channel belongs to a user only when it is exactly `/<namespace>/<sub>`: two segments, the
 * second equal to the caller's sub, byte for byte, and the sub a Cognito sub. Wildcards, extra
 * segments and case variants are refused.
 */
export function isOwnChannel(segments: readonly string[], namespace: string, sub: string | undefined): boolean {
  return (
    isCognitoSub(sub) &&
    segments.length === 2 &&
    segments[0] === namespace &&
    segments[1] === sub
  );
}
