/**
 * AppSync Events channel paths: 1-5 segments of [A-Za-z0-9-] (1-50 characters each), the
 * first naming a channel namespace, a leading slash optional. Subscriptions may end in `/*`,
 * which matches every channel below that prefix, at any depth.
 */
import { badRequest } from "./errors.js";

const MAX_SEGMENTS = 5;
const SEGMENT = /^[A-Za-z0-9-]{1,50}$/;

export interface ChannelPath {
  /** Normalized with a leading slash, e.g. `/Outbound-Messages/abc` or `/Outbound-Messages/*`. */
  path: string;
  /** Every segment, the wildcard included, e.g. `["Outbound-Messages", "*"]`. */
  segments: string[];
  namespace: string;
  /** True when the path ends in `/*` (subscriptions only). */
  wildcard: boolean;
}

/**
 * Parses a channel path, or throws BadRequestException. `namespaces` are the configured
 * namespace names; the first segment must be one of them, compared case-sensitively.
 */
export function parseChannel(
  raw: unknown,
  options: { allowWildcard: boolean; namespaces: ReadonlySet<string> },
): ChannelPath {
  if (typeof raw !== "string" || raw.length === 0) throw badRequest("A channel is required.");
  const segments = (raw.startsWith("/") ? raw.slice(1) : raw).split("/");
  const wildcard = segments.length > 1 && segments[segments.length - 1] === "*";
  if (wildcard && !options.allowWildcard) {
    throw badRequest("Wildcard channels can only be subscribed to, not published to.");
  }
  const concrete = wildcard ? segments.slice(0, -1) : segments;
  if (segments.length > MAX_SEGMENTS || !concrete.every((segment) => SEGMENT.test(segment))) {
    throw badRequest(
      "Invalid channel: use 1 to 5 segments of letters, digits and hyphens (1-50 characters each), optionally ending in /* when subscribing.",
    );
  }
  const namespace = concrete[0]!;
  if (!options.namespaces.has(namespace)) throw badRequest(`Channel namespace '${namespace}' does not exist.`);
  return { path: `/${segments.join("/")}`, segments, namespace, wildcard };
}

/** True when a published (concrete) channel is delivered to a subscription's channel. */
export function channelMatches(subscription: ChannelPath, published: ChannelPath): boolean {
  if (!subscription.wildcard) return subscription.path === published.path;
  const prefix = subscription.segments.slice(0, -1);
  return (
    published.segments.length > prefix.length && prefix.every((segment, i) => published.segments[i] === segment)
  );
}
