/**
 * Pulumi mocks that answer like AWS would, closely enough for the program's own logic: ARNs in
 * the real formats (IAM policies are built from them), autonamed physical names, the Events
 * API's dns hosts, and the account and partition data sources.
 */
import type * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT_ID = "123456789012";
export const MOCK_AUTONAME_SUFFIX = "-mock123";

type State = Record<string, unknown>;

/** The state a resource would have after creation, from its type, name and inputs. */
export function mockResourceState(args: pulumi.runtime.MockResourceArgs, region: string): { id: string; state: State } {
  const inputs = args.inputs as State;
  const account = MOCK_ACCOUNT_ID;
  const physical =
    typeof inputs.name === "string"
      ? inputs.name
      : typeof inputs.namePrefix === "string"
        ? `${inputs.namePrefix}mock123`
        : `${args.name}${MOCK_AUTONAME_SUFFIX}`;
  const state: State = { ...inputs, name: physical };
  let id = `${physical}-id`;

  switch (args.type) {
    case "pulumi:providers:aws":
      return { id: `${args.name}-provider-id`, state: inputs };
    case "aws:appsync/api:Api": {
      const apiId = `api${args.name.replace(/[^a-z0-9]/gi, "").slice(0, 20)}`;
      id = apiId;
      Object.assign(state, {
        apiId,
        apiArn: `arn:aws:appsync:${region}:${account}:apis/${apiId}`,
        dns: {
          HTTP: `${apiId}.appsync-api.${region}.amazonaws.com`,
          REALTIME: `${apiId}.appsync-realtime-api.${region}.amazonaws.com`,
        },
      });
      break;
    }
    case "aws:appsync/channelNamespace:ChannelNamespace":
      Object.assign(state, { channelNamespaceArn: `arn:aws:appsync:${region}:${account}:apis/${String(inputs.apiId)}/channelNamespace/${physical}` });
      break;
    case "aws:appsync/dataSource:DataSource":
      state.arn = `arn:aws:appsync:${region}:${account}:apis/${String(inputs.apiId)}/datasources/${physical}`;
      break;
    case "aws:lambda/function:Function":
      Object.assign(state, {
        arn: `arn:aws:lambda:${region}:${account}:function:${physical}`,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:${account}:function:${physical}/invocations`,
      });
      break;
    case "aws:iam/role:Role":
      state.arn = `arn:aws:iam::${account}:role/${physical}`;
      id = physical;
      break;
    case "aws:dynamodb/table:Table":
      state.arn = `arn:aws:dynamodb:${region}:${account}:table/${physical}`;
      id = physical;
      break;
    case "aws:sqs/queue:Queue":
      Object.assign(state, {
        arn: `arn:aws:sqs:${region}:${account}:${physical}`,
        url: `https://sqs.${region}.amazonaws.com/${account}/${physical}`,
      });
      id = state.url as string;
      break;
    case "aws:cloudwatch/logGroup:LogGroup":
      state.arn = `arn:aws:logs:${region}:${account}:log-group:${physical}`;
      id = physical;
      break;
    case "aws:cognito/userPool:UserPool":
      id = `${region}_MockPool1`;
      Object.assign(state, { arn: `arn:aws:cognito-idp:${region}:${account}:userpool/${id}`, endpoint: `cognito-idp.${region}.amazonaws.com/${id}` });
      break;
    case "aws:cognito/userPoolClient:UserPoolClient":
      id = `client${args.name.replace(/[^a-z0-9]/gi, "").slice(0, 20)}`;
      break;
    case "aws:wafv2/webAcl:WebAcl":
      state.arn = `arn:aws:wafv2:${region}:${account}:regional/webacl/${physical}/mock-id`;
      break;
    case "aws:s3/bucket:Bucket": {
      const bucket = typeof inputs.bucket === "string" ? inputs.bucket : `${args.name}${MOCK_AUTONAME_SUFFIX}`.toLowerCase();
      Object.assign(state, { bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com` });
      id = bucket;
      break;
    }
    case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
      state.arn = `arn:aws:firehose:${region}:${account}:deliverystream/${physical}`;
      id = state.arn as string;
      break;
    case "aws:glue/catalogDatabase:CatalogDatabase":
      state.arn = `arn:aws:glue:${region}:${account}:database/${physical}`;
      id = `${account}:${physical}`;
      break;
    case "aws:glue/catalogTable:CatalogTable":
      state.arn = `arn:aws:glue:${region}:${account}:table/${String(inputs.databaseName)}/${physical}`;
      id = `${account}:${String(inputs.databaseName)}:${physical}`;
      break;
    case "aws:athena/workgroup:Workgroup":
      state.arn = `arn:aws:athena:${region}:${account}:workgroup/${physical}`;
      id = physical;
      break;
    case "aws:cloudfront/distribution:Distribution":
      id = `E${args.name.replace(/[^a-z0-9]/gi, "").slice(0, 12).toUpperCase()}`;
      Object.assign(state, { arn: `arn:aws:cloudfront::${account}:distribution/${id}`, domainName: `d${id.toLowerCase()}.cloudfront.net` });
      break;
    case "aws:sns/topic:Topic":
      state.arn = `arn:aws:sns:${region}:${account}:${physical}`;
      id = state.arn as string;
      break;
    case "aws:bedrock/guardrail:Guardrail": {
      const guardrailId = `gr${args.name.replace(/[^a-z0-9]/gi, "").toLowerCase().slice(0, 10)}`;
      id = guardrailId;
      Object.assign(state, { guardrailId, guardrailArn: `arn:aws:bedrock:${region}:${account}:guardrail/${guardrailId}`, version: "DRAFT" });
      break;
    }
    case "aws:bedrock/guardrailVersion:GuardrailVersion":
      Object.assign(state, { version: "1" });
      id = `${String(inputs.guardrailArn)},1`;
      break;
    default:
      if (!("arn" in state)) state.arn = `arn:aws:mock:${region}:${account}:${args.type}/${physical}`;
  }
  return { id, state };
}

/** Answers the provider functions the program calls. */
export function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  switch (args.token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`, userId: "AIDAMOCK", id: MOCK_ACCOUNT_ID };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    default:
      throw new Error(`mocked stack: no mock for provider function ${args.token}`);
  }
}
