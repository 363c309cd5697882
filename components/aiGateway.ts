/**
 * The whole gateway: identity, the Events API and its channels, the functions behind them,
 * their tables, the optional WAF and analytics, and what operators watch (dashboard, alarms,
 * saved log queries). Pass an `aws` provider (index.ts sets the region and the
 * project/stack default tags on it) and every child inherits it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { OUTBOUND_NAMESPACE } from "../functions/lib/protocol/channels.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, TABLES, USAGE_TABLE } from "../functions/lib/tables.js";
import { Alarms } from "./alarms.js";
import { Analytics } from "./analytics.js";
import { Channels } from "./channels.js";
import { ChatWorker } from "./chatWorker.js";
import { EventApi } from "./eventApi.js";
import { Dashboard } from "./dashboard.js";
import { GatewayFunction } from "./gatewayFunction.js";
import { Guardrail } from "./guardrail.js";
import { Identity } from "./identity.js";
import { allowlistArns } from "./lib/bedrockArns.js";
import { channelNamespaceArn } from "./lib/iam.js";
import { LogQueries } from "./logQueries.js";
import { PreparedResponses } from "./preparedResponses.js";
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
  readonly analytics?: Analytics;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;
  readonly logQueries: LogQueries;
  readonly guardrail?: Guardrail;
  readonly preparedResponses: PreparedResponses;
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
    const usage = this.tables.tables[USAGE_TABLE.name]!;

    if (config.analytics.enabled) {
      this.analytics = new Analytics(
        `${name}-analytics`,
        {
          retentionDays: config.analytics.retentionDays,
          logRetentionDays: config.observability.logRetentionDays,
          databaseName: glueDatabaseName(stack),
          region,
          accountId,
          partition: partition.partition,
          forceDestroy: !config.protection.deletionProtection,
        },
        { parent: this },
      );
    }

    const conversations = this.tables.tables[CONVERSATIONS_TABLE.name]!;
    const cache = this.tables.tables[CACHE_TABLE.name]!;
    this.preparedResponses = new PreparedResponses(`${name}-prepared`, { config, tableName: cache.name }, { parent: this });
    if (config.guardrail.enabled) {
      this.guardrail = new Guardrail(`${name}-guardrail`, { settings: config.guardrail, description: `AI gateway (${stack}) guardrail` }, { parent: this });
    }

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
        analyticsStream: this.analytics && { name: this.analytics.deliveryStream.name, arn: this.analytics.deliveryStream.arn },
        usageTable: { name: usage.name, arn: usage.arn },
        conversationsTable: { name: conversations.name, arn: conversations.arn },
        cacheTable: { name: cache.name, arn: cache.arn },
        guardrail: this.guardrail
          ? { id: this.guardrail.guardrailId, version: this.guardrail.versionNumber, arn: this.guardrail.guardrailArn }
          : undefined,
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
    const watched = {
      workerName: this.worker.worker.function.name,
      workerTimeoutSeconds: config.worker.timeoutSeconds,
      deadLetterConsumerName: this.worker.deadLetterConsumer.function.name,
      failureQueueName: this.worker.failureQueue.name,
    };
    this.alarms = new Alarms(
      `${name}-alarms`,
      { ...watched, email: config.observability.alarmEmail, metricsNamespace: config.observability.metricsNamespace, modelIds },
      { parent: this },
    );
    this.dashboard = new Dashboard(
      `${name}-dashboard`,
      {
        ...watched,
        dashboardName: `ai-gateway-${stack}`,
        region,
        namespace: config.observability.metricsNamespace,
        modelIds,
        workerReservedConcurrency: config.worker.reservedConcurrency,
        analyticsStreamName: this.analytics?.deliveryStream.name,
      },
      { parent: this },
    );
    this.logQueries = new LogQueries(
      `${name}-log-queries`,
      { folder: `ai-gateway-${stack}`, logGroupNames: [this.worker.worker.logGroup.name] },
      { parent: this },
    );

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
      usageTableName: usage.name,
      inboundNamespace: this.inboundNamespace,
      outboundNamespace: this.outboundNamespace,
      dashboardUrl: this.dashboard.url,
      alarmTopicArn: this.alarms.topic.arn,
      webUrl: this.web?.url,
    });
  }
}

/** Glue (and Athena) names: lowercase letters, digits and `_`; one database per stack. */
export function glueDatabaseName(stack: string): string {
  return `ai_gateway_${stack.toLowerCase().replace(/[^a-z0-9]+/g, "_")}_analytics`;
}
