/**
 * The whole gateway: identity, the Events API and its channels, the functions behind them,
 * their tables, and the optional WAF and alarms. Pass an `aws` provider (index.ts sets the region and the
 * project/stack default tags on it) and every child inherits it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { OUTBOUND_NAMESPACE } from "../functions/lib/protocol/channels.js";
import { IDEMPOTENCY_TABLE, TABLES } from "../functions/lib/tables.js";
import { Alarms } from "./alarms.js";
import { Channels } from "./channels.js";
import { ChatWorker } from "./chatWorker.js";
import { EventApi } from "./eventApi.js";
import { GatewayFunction } from "./gatewayFunction.js";
import { Identity } from "./identity.js";
import { allowlistArns } from "./lib/bedrockArns.js";
import { channelNamespaceArn } from "./lib/iam.js";
import { Tables } from "./tables.js";
import { WebAcl } from "./webAcl.js";
import { WebApp, WebAppConfig } from "./webApp.js";
import { identityProviderSpecs } from "./lib/identityProviders.js";

export interface AiGatewayArgs {
  /** The validated `ai-gateway:*` config (parseGatewayConfig). */
  config: GatewayConfig;
  /** `aws:region`; also where the inference profiles are called from. */
  region: string;
  /** The Pulumi stack, logged by every function. */
  stack: string;
  /** The built chat UI (web/build.ts ensureWebBuild); the web app is deployed when given. @default none */
  webDistDir?: string;
  /** Function entry files, relative to the repository root. @default the files in functions/ */
  entries?: { onSubscribe?: string; chatWorker?: string; dlqConsumer?: string };
}

export class AiGateway extends pulumi.ComponentResource {
  readonly identity: Identity;
  readonly events: EventApi;
  readonly channels: Channels;
  readonly tables: Tables;
  readonly worker: ChatWorker;
  readonly subscribeAuthorizer: GatewayFunction;
  readonly webAcl?: WebAcl;
  readonly alarms?: Alarms;
  readonly web?: WebApp;
  readonly inboundNamespace: pulumi.Output<string>;
  readonly outboundNamespace: pulumi.Output<string>;

  constructor(name: string, args: AiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:AiGateway", name, {}, opts);
    const { config, region, stack } = args;
    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const accountId = caller.accountId;

    // The web app's hosting comes first: its URL is a callback URL of the user pool client.
    if (args.webDistDir) {
      this.web = new WebApp(`${name}-web`, { distDir: args.webDistDir, region, hostedUiDomainPrefix: config.identity.domainPrefix }, { parent: this });
    }

    this.identity = new Identity(
      `${name}-identity`,
      {
        identity: config.identity,
        tiers: config.tiers,
        deletionProtection: config.protection.deletionProtection,
        // The hosted UI returns to exactly this URL, which the page's Amplify config names too.
        appUrls: this.web ? [pulumi.interpolate`${this.web.url}/`] : [],
      },
      { parent: this },
    );

    this.events = new EventApi(
      `${name}-events`,
      {
        userPoolId: this.identity.userPool.id,
        userPoolClientId: this.identity.client.id,
        region,
        accountId,
        logRetentionDays: config.observability.logRetentionDays,
      },
      { parent: this },
    );

    if (config.waf.enabled) {
      this.webAcl = new WebAcl(
        `${name}-waf`,
        { resourceArn: this.events.api.apiArn, rateLimitPer5Min: config.waf.rateLimitPer5Min },
        { parent: this },
      );
    }

    this.tables = new Tables(
      `${name}-tables`,
      {
        schemas: TABLES,
        pointInTimeRecovery: config.protection.pointInTimeRecovery,
        deletionProtection: config.protection.deletionProtection,
      },
      { parent: this },
    );
    const idempotency = this.tables.tables[IDEMPOTENCY_TABLE.name]!;

    const modelIds = config.models.map((m) => m.id);
    this.worker = new ChatWorker(
      `${name}-worker`,
      {
        config,
        stack,
        eventsHttpEndpoint: this.events.httpEndpoint,
        outboundNamespaceArn: channelNamespaceArn(this.events.api.apiArn, OUTBOUND_NAMESPACE),
        bedrockArns: pulumi
          .all([partition.partition, accountId])
          .apply(([p, account]) => allowlistArns(modelIds, { partition: p, region, accountId: account })),
        idempotencyTable: { name: idempotency.name, arn: idempotency.arn },
        entries: { worker: args.entries?.chatWorker, deadLetterConsumer: args.entries?.dlqConsumer },
      },
      { parent: this },
    );

    // Authorizes subscriptions from the event alone: no AWS permissions beyond its logs.
    this.subscribeAuthorizer = new GatewayFunction(
      `${name}-subscribe`,
      {
        entry: args.entries?.onSubscribe ?? "functions/onSubscribe.ts",
        description: "Lets users subscribe to their own Outbound-Messages channel only",
        config,
        stack,
        serviceName: "subscribe-authorizer",
        timeoutSeconds: 10,
      },
      { parent: this },
    );

    this.channels = new Channels(
      `${name}-channels`,
      {
        apiId: this.events.api.apiId,
        apiArn: this.events.api.apiArn,
        accountId,
        handlers: {
          inbound: { functionArn: this.worker.worker.function.arn, dataSourceName: "ChatWorker" },
          outbound: { functionArn: this.subscribeAuthorizer.function.arn, dataSourceName: "SubscribeAuthorizer" },
        },
      },
      { parent: this },
    );
    if (config.observability.alarmEmail) {
      this.alarms = new Alarms(
        `${name}-alarms`,
        {
          email: config.observability.alarmEmail,
          workerName: this.worker.worker.function.name,
          workerTimeoutSeconds: config.worker.timeoutSeconds,
          deadLetterConsumerName: this.worker.deadLetterConsumer.function.name,
          failureQueueName: this.worker.failureQueue.name,
        },
        { parent: this },
      );
    }

    if (this.web) {
      const { domainPrefix } = config.identity;
      const webUrl = this.web.url;
      new WebAppConfig(
        `${name}-web-config`,
        {
          app: this.web,
          config: pulumi.all([this.events.httpEndpoint, this.events.realtimeEndpoint, this.identity.userPool.id, this.identity.client.id, webUrl]).apply(
            ([httpEndpoint, realtimeEndpoint, userPoolId, userPoolClientId, url]) => ({
              region,
              appName: `AI Gateway (${stack})`,
              events: { httpEndpoint, realtimeEndpoint },
              cognito: {
                userPoolId,
                userPoolClientId,
                authFlow: "USER_SRP_AUTH" as const,
                mfa: config.identity.mfa,
                ...(domainPrefix
                  ? {
                      oauth: {
                        domain: `${domainPrefix}.auth.${region}.amazoncognito.com`,
                        scopes: ["openid", "email", "profile"],
                        redirectSignIn: [`${url}/`],
                        redirectSignOut: [`${url}/`],
                        providers: identityProviderSpecs(config.identity.providers).map((p) => p.providerName),
                      },
                    }
                  : {}),
              },
            }),
          ),
        },
        { parent: this },
      );
    }

    this.inboundNamespace = this.channels.namespaces.inbound.name;
    this.outboundNamespace = this.channels.namespaces.outbound.name;

    this.registerOutputs({
      httpEndpoint: this.events.httpEndpoint,
      realtimeEndpoint: this.events.realtimeEndpoint,
      userPoolId: this.identity.userPool.id,
      userPoolClientId: this.identity.client.id,
      inboundNamespace: this.inboundNamespace,
      outboundNamespace: this.outboundNamespace,
      webUrl: this.web?.url,
    });
  }
}
