/**
 * Reading a mocked stack: finding resources, parsing their IAM documents, opening code archives.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { MockedResource } from "../../tools/mocked-stack.js";

export const T = {
  api: "aws:appsync/api:Api",
  namespace: "aws:appsync/channelNamespace:ChannelNamespace",
  dataSource: "aws:appsync/dataSource:DataSource",
  fn: "aws:lambda/function:Function",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  eventSource: "aws:lambda/eventSourceMapping:EventSourceMapping",
  queue: "aws:sqs/queue:Queue",
  table: "aws:dynamodb/table:Table",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  userPool: "aws:cognito/userPool:UserPool",
  client: "aws:cognito/userPoolClient:UserPoolClient",
  group: "aws:cognito/userGroup:UserGroup",
  idp: "aws:cognito/identityProvider:IdentityProvider",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
  provider: "pulumi:providers:aws",
} as const;

export const ofType = (resources: MockedResource[], type: string) => resources.filter((r) => r.type === type);

/** The one resource of a type whose logical name ends with `suffix`. */
export function one(resources: MockedResource[], type: string, suffix = ""): MockedResource {
  const found = ofType(resources, type).filter((r) => r.name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
  return found[0]!;
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: { Service?: string };
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const actionsOf = (s: Statement) => list(s.Action);
export const resourcesOf = (s: Statement) => list(s.Resource);

export function statementsOf(document: string): Statement[] {
  return (JSON.parse(document) as { Statement: Statement[] }).Statement;
}

/** Every permission statement the stack grants (role policies), with the policy's name. */
export function grantedStatements(resources: MockedResource[]): { policy: string; statement: Statement }[] {
  return ofType(resources, T.rolePolicy).flatMap((p) => statementsOf(p.inputs.policy).map((statement) => ({ policy: p.name, statement })));
}

/** The statements attached to one role, across its policies. */
export function roleStatements(resources: MockedResource[], role: MockedResource): Statement[] {
  return ofType(resources, T.rolePolicy)
    .filter((p) => p.inputs.role === role.state.id || p.inputs.role === role.state.name)
    .flatMap((p) => statementsOf(p.inputs.policy));
}

/** The role a function runs as. */
export function roleOf(resources: MockedResource[], fn: MockedResource): MockedResource {
  const role = ofType(resources, T.role).find((r) => r.state.arn === fn.inputs.role);
  if (!role) throw new Error(`no role for ${fn.name}`);
  return role;
}

/** The text of one file inside a Lambda code archive. */
export async function archiveFile(archive: pulumi.asset.AssetArchive, file: string): Promise<string> {
  const assets = await archive.assets;
  const asset = assets[file] as pulumi.asset.StringAsset | undefined;
  if (!asset) throw new Error(`no ${file} in the archive (has ${Object.keys(assets).join(", ")})`);
  return asset.text!;
}
