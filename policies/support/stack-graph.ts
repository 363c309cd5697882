/**
 * Following references between resources in a stack validation: which functions AppSync or
 * other services invoke asynchronously, and which resources configure a given one.
 */
import { asArray, isRecord, refersTo } from "./values";

export interface StackResource {
  type: string;
  name: string;
  urn: string;
  props: Record<string, any>;
}

export const TYPES = {
  function: "aws:lambda/function:Function",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  permission: "aws:lambda/permission:Permission",
  namespace: "aws:appsync/channelNamespace:ChannelNamespace",
  dataSource: "aws:appsync/dataSource:DataSource",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
} as const;

export function ofType(resources: readonly StackResource[], ...types: string[]): StackResource[] {
  return resources.filter((r) => types.includes(r.type));
}

/** Services that invoke Lambda asynchronously when they hold a permission to. */
const ASYNC_PRINCIPALS = ["sns.amazonaws.com", "s3.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com", "ses.amazonaws.com"];

export interface AsyncInvocation {
  fn: StackResource;
  /** What makes the invocation asynchronous: an AppSync EVENT handler, a service permission, or a declared invoke config. */
  source: "appsync" | "service" | "invokeConfig";
  /** Who invokes it, for messages. */
  via: string;
}

/**
 * Functions invoked asynchronously: AppSync handlers with invokeType EVENT (namespace ->
 * data source -> function), targets of async-invoking service principals, and functions
 * that already declare an event-invoke config.
 */
export function asyncInvokedFunctions(resources: readonly StackResource[]): AsyncInvocation[] {
  const functions = ofType(resources, TYPES.function);
  const found = new Map<StackResource, AsyncInvocation>();
  const add = (ref: unknown, source: AsyncInvocation["source"], via: string) => {
    for (const fn of functions) if (refersTo(ref, fn) && !found.has(fn)) found.set(fn, { fn, source, via });
  };
  const dataSources = ofType(resources, TYPES.dataSource);
  for (const ns of ofType(resources, TYPES.namespace)) {
    const handlers = isRecord(ns.props.handlerConfigs) ? ns.props.handlerConfigs : {};
    for (const [event, handler] of Object.entries(handlers)) {
      if (!isRecord(handler) || !isRecord(handler.integration)) continue;
      const integration = handler.integration;
      if (!isRecord(integration.lambdaConfig) || integration.lambdaConfig.invokeType !== "EVENT") continue;
      for (const ds of dataSources.filter((d) => d.props.name === integration.dataSourceName)) {
        add(isRecord(ds.props.lambdaConfig) ? ds.props.lambdaConfig.functionArn : undefined, "appsync", `AppSync ${ns.props.name ?? ns.name} ${event} (EVENT)`);
      }
    }
  }
  for (const p of ofType(resources, TYPES.permission)) {
    if (ASYNC_PRINCIPALS.includes(p.props.principal)) add(p.props.function, "service", `${p.props.principal} permission ${p.name}`);
  }
  for (const c of ofType(resources, TYPES.invokeConfig)) add(c.props.functionName, "invokeConfig", `event-invoke config ${c.name}`);
  return [...found.values()];
}

/** Resources of `type` whose `field` refers to `target`. */
export function referencing(resources: readonly StackResource[], type: string, field: string, target: StackResource): StackResource[] {
  return ofType(resources, type).filter((r) => asArray(r.props[field] as unknown).some((ref) => refersTo(ref, target)));
}
