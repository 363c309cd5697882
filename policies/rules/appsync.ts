/**
 * AppSync: no shared secrets on the Events API (an API key would let anyone with the web
 * bundle publish), and API logging on so authorization failures can be investigated.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, isRecord, withRemedy } from "../support/values";

const API_KEY = "API_KEY";

function authTypes(list: unknown): string[] {
  return asArray(list as unknown).filter(isRecord).map((p) => p.authType ?? p.authenticationType).filter((t): t is string => typeof t === "string");
}

export const appsyncNoApiKeyAuth: ResourceValidationPolicy = {
  name: "appsync-no-api-key-auth",
  description: "AppSync APIs and channel namespaces never accept API keys; no API key resources exist.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Authorize clients with the Cognito user pool and the worker with AWS_IAM; remove API_KEY providers and aws.appsync.ApiKey resources.",
  validateResource: (args, reportViolation) => {
    const remedy = "use AMAZON_COGNITO_USER_POOLS for clients and AWS_IAM for the worker";
    const props = args.props;
    switch (args.type) {
      case "aws:appsync/api:Api": {
        const config = isRecord(props.eventConfig) ? props.eventConfig : {};
        const fields = ["authProviders", "connectionAuthModes", "defaultPublishAuthModes", "defaultSubscribeAuthModes"];
        for (const field of fields) {
          if (authTypes(config[field]).includes(API_KEY)) reportViolation(withRemedy(`eventConfig.${field} includes ${API_KEY}`, remedy));
        }
        return;
      }
      case "aws:appsync/channelNamespace:ChannelNamespace":
        for (const field of ["publishAuthModes", "subscribeAuthModes"]) {
          if (authTypes(props[field]).includes(API_KEY)) reportViolation(withRemedy(`${field} includes ${API_KEY}`, remedy));
        }
        return;
      case "aws:appsync/graphQLApi:GraphQLApi":
        if (props.authenticationType === API_KEY || authTypes(props.additionalAuthenticationProviders).includes(API_KEY)) {
          reportViolation(withRemedy(`the GraphQL API accepts ${API_KEY}`, remedy));
        }
        return;
      case "aws:appsync/apiKey:ApiKey":
        reportViolation(withRemedy("an AppSync API key exists", "delete it; " + remedy));
        return;
    }
  },
};

export interface AppsyncLoggingConfig {
  allowedLogLevels: string[];
}

export const appsyncLoggingEnabled: ResourceValidationPolicy = {
  name: "appsync-logging-enabled",
  description: "Every AppSync Events API logs to CloudWatch through a role, at an allowed level.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set eventConfig.logConfig { cloudwatchLogsRoleArn, logLevel } with a role AppSync may assume; keep the level within allowedLogLevels.",
  configSchema: {
    properties: {
      allowedLogLevels: {
        type: "array",
        items: { type: "string", enum: ["ERROR", "INFO", "DEBUG", "ALL"] },
        default: ["ERROR", "INFO", "DEBUG", "ALL"],
        description: "Log levels the stack may use; verbose levels log more request detail.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:appsync/api:Api") return;
    const { allowedLogLevels } = args.getConfig<AppsyncLoggingConfig>();
    const logConfig = isRecord(args.props.eventConfig) ? args.props.eventConfig.logConfig : undefined;
    if (!isRecord(logConfig)) {
      reportViolation(withRemedy("the Events API has no eventConfig.logConfig, so nothing it does is logged", "add logConfig with a CloudWatch role and a log level"));
      return;
    }
    if (!logConfig.cloudwatchLogsRoleArn) {
      reportViolation(withRemedy("eventConfig.logConfig has no cloudwatchLogsRoleArn", "create a role trusted by appsync.amazonaws.com that may write logs"));
    }
    if (!allowedLogLevels.includes(logConfig.logLevel)) {
      reportViolation(withRemedy(`eventConfig.logConfig.logLevel is "${logConfig.logLevel}"; allowed: ${allowedLogLevels.join(", ")}`, "pick an allowed level"));
    }
  },
};

export const appsyncPolicies = [appsyncNoApiKeyAuth, appsyncLoggingEnabled];
