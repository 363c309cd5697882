/**
 * The channel namespaces of the Events API, with the auth modes and handlers the shared
 * contract (functions/lib/protocol/channels.ts) gives them. Each handler is a DIRECT Lambda
 * data source whose service role may invoke exactly that one function, and only on behalf of
 * this API.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACES, type NamespaceContract } from "../functions/lib/protocol/channels.js";
import { assumeRolePolicy, invokeFunctionStatement, policyDocument } from "./lib/iam.js";

export type NamespaceKey = keyof typeof NAMESPACES;

export interface ChannelHandler {
  /** The function AppSync calls for the namespace's handler event. */
  functionArn: pulumi.Input<string>;
  /** AppSync data source name: letters, digits and `_`, unique within the API. */
  dataSourceName: string;
}

export interface ChannelsArgs {
  /** The Events API the namespaces and data sources belong to. */
  apiId: pulumi.Input<string>;
  /** That API's ARN; the data source roles trust AppSync only on behalf of it. */
  apiArn: pulumi.Input<string>;
  /** The account the API lives in (`aws:SourceAccount` of the data source roles). */
  accountId: pulumi.Input<string>;
  /** One handler per namespace of the contract. Every namespace needs one. */
  handlers: Record<NamespaceKey, ChannelHandler>;
}

const DATA_SOURCE_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** The handlerConfigs block for a namespace: its contract's event, DIRECT, through one data source. */
export function handlerConfigs(contract: NamespaceContract, dataSourceName: pulumi.Input<string>) {
  return {
    [contract.handler.event]: {
      behavior: "DIRECT",
      integration: { dataSourceName, lambdaConfig: { invokeType: contract.handler.invokeType } },
    },
  };
}

export class Channels extends pulumi.ComponentResource {
  readonly namespaces = {} as Record<NamespaceKey, aws.appsync.ChannelNamespace>;
  readonly dataSources = {} as Record<NamespaceKey, aws.appsync.DataSource>;

  constructor(name: string, args: ChannelsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:Channels", name, {}, opts);

    for (const key of Object.keys(NAMESPACES) as NamespaceKey[]) {
      const contract = NAMESPACES[key];
      const handler = args.handlers[key];
      if (!DATA_SOURCE_NAME.test(handler.dataSourceName)) {
        throw new Error(`Channels: data source name "${handler.dataSourceName}" must match ${DATA_SOURCE_NAME}`);
      }

      const role = new aws.iam.Role(
        `${name}-${key}-source-role`,
        {
          description: `Lets AppSync call the ${contract.name} ${contract.handler.event} handler`,
          assumeRolePolicy: assumeRolePolicy("appsync.amazonaws.com", {
            StringEquals: { "aws:SourceAccount": args.accountId },
            ArnLike: { "aws:SourceArn": [args.apiArn, pulumi.interpolate`${args.apiArn}/*`] },
          }),
        },
        { parent: this },
      );
      const invokePolicy = new aws.iam.RolePolicy(
        `${name}-${key}-source-policy`,
        { role: role.id, policy: policyDocument([invokeFunctionStatement(handler.functionArn)]) },
        { parent: this },
      );

      this.dataSources[key] = new aws.appsync.DataSource(
        `${name}-${key}-source`,
        {
          apiId: args.apiId,
          name: handler.dataSourceName,
          description: `${contract.handler.event} of ${contract.name}`,
          type: "AWS_LAMBDA",
          lambdaConfig: { functionArn: handler.functionArn },
          serviceRoleArn: role.arn,
        },
        { parent: this, dependsOn: [invokePolicy] },
      );

      this.namespaces[key] = new aws.appsync.ChannelNamespace(
        `${name}-${key}`,
        {
          apiId: args.apiId,
          // Explicit: autonaming would add a suffix and break the channel contract.
          name: contract.name,
          publishAuthModes: contract.publishAuthModes.map((authType) => ({ authType })),
          subscribeAuthModes: contract.subscribeAuthModes.map((authType) => ({ authType })),
          handlerConfigs: handlerConfigs(contract, this.dataSources[key].name),
        },
        { parent: this },
      );
    }

    this.registerOutputs({
      namespaces: Object.fromEntries(Object.entries(this.namespaces).map(([k, ns]) => [k, ns.name])),
    });
  }
}
