/**
 * The chat worker is the gateway: when it fails, users get nothing. An alarm on its Errors
 * metric is how operators hear about it, and an alarm that notifies nobody is how they don't.
 * components/alarms.ts creates its alarms in every stack (the e-mail subscription to their
 * topic only when ai-gateway:observability.alarmEmail is set), so both rules are mandatory.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { asyncInvokedFunctions, ofType, TYPES, type StackResource } from "../support/stack-graph";
import { asArray, isRecord, refersTo, withRemedy } from "../support/values";

interface MetricRef {
  namespace?: unknown;
  metricName?: unknown;
  dimensions?: unknown;
}

/** The metrics an alarm watches: its own metric, or those inside its metric-math queries. */
function watchedMetrics(alarm: StackResource): MetricRef[] {
  const queries = asArray(alarm.props.metricQueries as unknown).filter(isRecord);
  return [alarm.props as MetricRef, ...queries.map((q) => q.metric).filter(isRecord)];
}

function watchesErrorsOf(alarm: StackResource, fn: StackResource): boolean {
  return watchedMetrics(alarm).some(
    (m) => m.namespace === "AWS/Lambda" && m.metricName === "Errors" && isRecord(m.dimensions) && refersTo(m.dimensions.FunctionName, fn),
  );
}

/** The worker: the function AppSync invokes asynchronously for inbound messages. */
export function chatWorkers(resources: readonly StackResource[]): StackResource[] {
  return asyncInvokedFunctions(resources)
    .filter(({ source }) => source === "appsync")
    .map(({ fn }) => fn);
}

export const workerErrorAlarm: StackValidationPolicy = {
  name: "worker-error-alarm",
  description: "A CloudWatch alarm watches the chat worker's Errors metric.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Add an aws.cloudwatch.MetricAlarm on AWS/Lambda Errors with dimensions { FunctionName: <worker name> }, notifying the ops SNS topic.",
  validateStack: (args, reportViolation) => {
    const workers = chatWorkers(args.resources);
    if (!workers.length) {
      reportViolation(withRemedy("no chat worker found (no function is an AppSync EVENT handler)", "wire the worker as the Inbound namespace's onPublish handler"));
    }
    const alarms = ofType(args.resources, TYPES.alarm);
    for (const worker of workers.filter((w) => !alarms.some((a) => watchesErrorsOf(a, w)))) {
      reportViolation(withRemedy(`no alarm watches the Errors metric of the chat worker ${worker.name}`, "add a MetricAlarm on AWS/Lambda Errors for it"), worker.urn);
    }
  },
};

export const alarmsNotify: StackValidationPolicy = {
  name: "alarms-notify",
  description: "Every CloudWatch alarm notifies someone (an SNS topic or another action) when it fires.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set alarmActions (and okActions) to the alarms topic of components/alarms.ts.",
  validateStack: (args, reportViolation) => {
    for (const alarm of ofType(args.resources, TYPES.alarm)) {
      if (asArray(alarm.props.alarmActions as unknown).length === 0) {
        reportViolation(withRemedy(`alarm ${alarm.name} notifies nobody when it fires`, "set alarmActions to the alarms topic"), alarm.urn);
      }
    }
  },
};
