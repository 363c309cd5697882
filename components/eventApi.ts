/**
 * The AppSync Events API clients hold their WebSocket to: Cognito user-pool auth for people,
 * IAM for the gateway's own functions, no API key. API logging at ERROR goes to a log group
 * the program owns (so it has the stack's retention) through a role only AppSync can assume.
 * The namespaces and their handlers are the Channels component's job.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, policyDocument, writeLogsStatement } from "./lib/iam.js";

export interface EventApiArgs {
  /** The user pool whose tokens clients present. */
  userPoolId: pulumi.Input<string>;
  /** Only tokens issued to this app client are accepted. */
  userPoolClientId: pulumi.Input<string>;
  /** `aws:region`: where the user pool's tokens are issued. */
  region: string;
  /** The account the API lives in; only AppSync acting for it may use the log role. */
  accountId: pulumi.Input<string>;
  /** Retention of the API's own log group, in days (a CloudWatch retention value). */
  logRetentionDays: number;
  /** What AppSync logs about requests and handlers (ERROR: failures only). @default "ERROR" */
  logLevel?: "NONE" | "ERROR" | "INFO" | "DEBUG" | "ALL";
}

export class EventApi extends pulumi.ComponentResource {
  readonly api: aws.appsync.Api;
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** `https://<HTTP host>/event`: where the functions publish. */
  readonly httpEndpoint: pulumi.Output<string>;
  /** `wss://<REALTIME host>/event/realtime`: where clients connect. */
  readonly realtimeEndpoint: pulumi.Output<string>;

  constructor(name: string, args: EventApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:EventApi", name, {}, opts);
    const { logLevel } = { logLevel: "ERROR" as const, ...args };

    // Exists before the API (its ARN is part of the API); trusted by AppSync in this account only.
    const logRole = new aws.iam.Role(
      `${name}-logs-role`,
      {
        description: "Lets AppSync write the Events API's logs",
        assumeRolePolicy: assumeRolePolicy("appsync.amazonaws.com", {
          StringEquals: { "aws:SourceAccount": args.accountId },
        }),
      },
      { parent: this },
    );

    const cognito = "AMAZON_COGNITO_USER_POOLS";
    const iam = "AWS_IAM";
    this.api = new aws.appsync.Api(
      `${name}-api`,
      {
        eventConfig: {
          authProviders: [
            {
              authType: cognito,
              cognitoConfig: {
                userPoolId: args.userPoolId,
                awsRegion: args.region,
                appIdClientRegex: pulumi.interpolate`^${args.userPoolClientId}$`,
              },
            },
            { authType: iam },
          ],
          // IAM connections serve operators' tools (Inbound is subscribable with IAM only).
          connectionAuthModes: [{ authType: cognito }, { authType: iam }],
          // Namespaces override these; anything new starts closed to clients.
          defaultPublishAuthModes: [{ authType: iam }],
          defaultSubscribeAuthModes: [{ authType: iam }],
          logConfig: { cloudwatchLogsRoleArn: logRole.arn, logLevel },
        },
      },
      { parent: this },
    );

    // The name AppSync writes to. The role cannot create log groups, so this one, with its
    // retention, is the only one there will be.
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: pulumi.interpolate`/aws/appsync/apis/${this.api.apiId}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );

    new aws.iam.RolePolicy(
      `${name}-logs-policy`,
      { role: logRole.id, policy: policyDocument([writeLogsStatement(this.logGroup.arn)]) },
      { parent: this },
    );

    this.httpEndpoint = pulumi.interpolate`https://${this.api.dns.apply((dns) => dns.HTTP)}/event`;
    this.realtimeEndpoint = pulumi.interpolate`wss://${this.api.dns.apply((dns) => dns.REALTIME)}/event/realtime`;

    this.registerOutputs({ apiId: this.api.apiId, httpEndpoint: this.httpEndpoint, realtimeEndpoint: this.realtimeEndpoint });
  }
}
