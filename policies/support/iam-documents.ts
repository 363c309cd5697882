/**
 * IAM policy documents found in resource properties, flattened into statements with their
 * actions and resources as lists, so rules never deal with IAM's "string or list" shapes.
 */
import { asArray, isRecord, parseJsonValue } from "./values";

export interface Statement {
  effect: string;
  actions: string[];
  /** NotAction: an Allow with NotAction grants everything except the list. */
  notActions: string[];
  resources: string[];
  notResources: string[];
  condition: Record<string, any>;
  principal: unknown;
}

/** Identity policies: the document is `policy`; roles may carry inline policies too. */
const IDENTITY_POLICY_TYPES = new Set([
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/policy:Policy",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/groupPolicy:GroupPolicy",
]);

/** Resource policies: the same document grammar, attached to the resource instead of a principal. */
const RESOURCE_POLICY_TYPES = new Set([
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:sqs/queuePolicy:QueuePolicy",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
]);

export interface FoundDocument {
  /** Where in the resource the document sits, for messages. */
  field: string;
  statements: Statement[];
}

function toStrings(value: unknown): string[] {
  return asArray(value as string | string[]).filter((v): v is string => typeof v === "string");
}

export function statementsOf(document: unknown): Statement[] {
  const parsed = parseJsonValue(document);
  if (!isRecord(parsed)) return [];
  return asArray(parsed.Statement as unknown).filter(isRecord).map((s) => ({
    effect: typeof s.Effect === "string" ? s.Effect : "Allow",
    actions: toStrings(s.Action),
    notActions: toStrings(s.NotAction),
    resources: toStrings(s.Resource),
    notResources: toStrings(s.NotResource),
    condition: isRecord(s.Condition) ? s.Condition : {},
    principal: s.Principal,
  }));
}

/** Every permission document a resource carries (trust policies excluded: they grant no actions). */
export function policyDocumentsOf(type: string, props: Record<string, any>): FoundDocument[] {
  if (IDENTITY_POLICY_TYPES.has(type) || RESOURCE_POLICY_TYPES.has(type)) {
    return props.policy === undefined ? [] : [{ field: "policy", statements: statementsOf(props.policy) }];
  }
  if (type === "aws:iam/role:Role") {
    return asArray(props.inlinePolicies as unknown)
      .filter(isRecord)
      .map((p, i) => ({ field: `inlinePolicies[${i}] (${p.name ?? "unnamed"})`, statements: statementsOf(p.policy) }));
  }
  return [];
}

/** IAM action matching: case-insensitive, `*` and `?` wildcards. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return regex.test(action);
}

/**
 * Any `*` or `?`: not only `*` and `service:*` but `dynamodb:*Item` or `s3:Get*`, which grow
 * silently whenever AWS adds a matching action.
 */
export function hasActionWildcard(action: string): boolean {
  return /[*?]/.test(action);
}

export function serviceOf(action: string): string {
  return action.includes(":") ? action.split(":")[0]!.toLowerCase() : "*";
}
