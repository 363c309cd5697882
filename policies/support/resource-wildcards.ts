/**
 * How far a wildcard in an IAM Resource reaches. `*` and `arn:...:table/*` name every resource
 * of a kind; `table/gateway-*`, `apis/abc/*` or `arn:aws:sqs:*:*:q*` name an open-ended set
 * that grows with whatever anyone creates later under a matching name. Only two suffix
 * forms stay within one named resource and are accepted: a bucket's objects
 * (`<bucket-arn>/*`, optionally below a fixed key prefix) and a table's indexes
 * (`<table-arn>/index/*`), because neither can be named one by one ahead of time.
 */

const WILDCARD = /[*?]/;

/** Resource parts (after `arn:p:service:region:account:`) allowed to end in a wildcard. */
const ALLOWED_WILDCARD_FORMS: Record<string, RegExp> = {
  s3: /^[^*?/]+\/(?:[^*?]+\/)?\*$/,
  dynamodb: /^table\/[^*?/]+\/index\/\*$/,
};

const ARN = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/;

/** `*`, or an ARN naming every resource of its service or type: `...:*`, `table/*`, `arn:aws:s3:::*`, `*\/*`. */
function namesEveryResource(service: string, part: string): boolean {
  if (part === "*") return true;
  return service === "s3" ? part === "*/*" : /^[a-z-]+\/\*$/i.test(part);
}

export type WildcardReach = "every" | "partial";

/**
 * "every" for a resource naming all resources of a kind, "partial" for any other wildcard
 * outside the allowed suffix forms, undefined for a named resource. ARNs of services outside
 * `services` are not judged (a statement may also name log groups, whose `:*` is the norm).
 */
export function wildcardReach(resource: string, services: readonly string[]): WildcardReach | undefined {
  if (resource === "*") return "every";
  const match = ARN.exec(resource);
  if (!match) return WILDCARD.test(resource) ? "partial" : undefined;
  const [, partition, service, region, account, part] = match as unknown as [string, string, string, string, string, string];
  if (!WILDCARD.test(service) && !services.includes(service.toLowerCase())) return undefined;
  if (!WILDCARD.test(resource)) return undefined;
  if (namesEveryResource(service, part)) return "every";
  if ([partition, service, region, account].some((p) => WILDCARD.test(p))) return "partial";
  return ALLOWED_WILDCARD_FORMS[service]?.test(part) ? undefined : "partial";
}
