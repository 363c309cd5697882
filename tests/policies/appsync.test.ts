import { describe, expect, it } from "vitest";
import { policyConfig } from "../../policies/evaluate.js";
import { appsyncLoggingEnabled, appsyncNoApiKeyAuth } from "../../policies/rules/appsync.js";
import { compliantStack, PACK_CONFIG, resource, violations, withInputs } from "./fixtures.js";

const api = compliantStack().find((r) => r.name === "events-api")!;
const eventConfig = api.inputs.eventConfig as Record<string, any>;

describe("appsync-no-api-key-auth", () => {
  it("passes an Events API authorized by Cognito and IAM only", async () => {
    expect(await violations("appsync-no-api-key-auth", compliantStack())).toEqual([]);
  });

  it("refuses an API key auth provider on the Events API", async () => {
    const stack = withInputs("events-api", { eventConfig: { ...eventConfig, authProviders: [...eventConfig.authProviders, { authType: "API_KEY" }] } });
    expect(await violations("appsync-no-api-key-auth", stack)).toEqual([expect.stringContaining("eventConfig.authProviders includes API_KEY. To fix: use AMAZON_COGNITO_USER_POOLS")]);
  });

  it("refuses a channel namespace that lets API keys publish", async () => {
    const stack = withInputs("inbound", { publishAuthModes: [{ authType: "API_KEY" }] });
    expect(await violations("appsync-no-api-key-auth", stack)).toEqual([expect.stringContaining("publishAuthModes includes API_KEY")]);
  });

  it.each(["authProviders", "connectionAuthModes", "defaultPublishAuthModes", "defaultSubscribeAuthModes"])(
    "refuses API_KEY in the Events API's eventConfig.%s alone",
    async (field) => {
      const stack = withInputs("events-api", { eventConfig: { ...eventConfig, [field]: [...(eventConfig[field] ?? []), { authType: "API_KEY" }] } });
      expect(await violations("appsync-no-api-key-auth", stack)).toEqual([expect.stringContaining(`eventConfig.${field} includes API_KEY`)]);
    },
  );

  it.each(["publishAuthModes", "subscribeAuthModes"])("refuses API_KEY in a channel namespace's %s alone", async (field) => {
    const stack = withInputs("inbound", { [field]: [{ authType: "AWS_IAM" }, { authType: "API_KEY" }] });
    expect(await violations("appsync-no-api-key-auth", stack)).toEqual([expect.stringMatching(new RegExp(`^${field} includes API_KEY\\. To fix:`))]);
  });

  it("refuses a GraphQL API that accepts API keys, as its main or an additional mode", async () => {
    const graphql = (inputs: Record<string, unknown>) => [...compliantStack(), resource("aws:appsync/graphQLApi:GraphQLApi", "legacy", inputs)];
    expect(await violations("appsync-no-api-key-auth", graphql({ authenticationType: "API_KEY" }))).toEqual([expect.stringContaining("the GraphQL API accepts API_KEY")]);
    const additional = graphql({ authenticationType: "AWS_IAM", additionalAuthenticationProviders: [{ authenticationType: "API_KEY" }] });
    expect(await violations("appsync-no-api-key-auth", additional)).toEqual([expect.stringContaining("the GraphQL API accepts API_KEY")]);
    expect(await violations("appsync-no-api-key-auth", graphql({ authenticationType: "AMAZON_COGNITO_USER_POOLS" }))).toEqual([]);
  });

  it("refuses an AppSync API key resource", async () => {
    const stack = [...compliantStack(), resource("aws:appsync/apiKey:ApiKey", "leaked", { apiId: "api" })];
    expect(await violations("appsync-no-api-key-auth", stack)).toEqual([
      "an AppSync API key exists. To fix: delete it; use AMAZON_COGNITO_USER_POOLS for clients and AWS_IAM for the worker",
    ]);
  });

  it("reads auth modes past entries that are not objects (unresolved outputs) instead of failing", async () => {
    const stack = withInputs("inbound", { subscribeAuthModes: [null, "AWS_IAM", { authType: "API_KEY" }] });
    expect(await violations("appsync-no-api-key-auth", stack)).toEqual([expect.stringMatching(/^subscribeAuthModes includes API_KEY\./)]);
  });

  it("blocks a deployment and rates an API key critical", () => {
    expect(appsyncNoApiKeyAuth).toMatchObject({ enforcementLevel: "mandatory", severity: "critical" });
  });
});

describe("appsync-logging-enabled", () => {
  it("passes an Events API that logs through a role at an allowed level", async () => {
    expect(eventConfig.logConfig).toMatchObject({ cloudwatchLogsRoleArn: expect.any(String), logLevel: "ERROR" });
    expect(await violations("appsync-logging-enabled", compliantStack())).toEqual([]);
  });

  it("says how to fix each finding", async () => {
    const { logConfig: _dropped, ...rest } = eventConfig;
    expect(await violations("appsync-logging-enabled", withInputs("events-api", { eventConfig: rest }))).toEqual([
      "the Events API has no eventConfig.logConfig, so nothing it does is logged. To fix: add logConfig with a CloudWatch role and a log level",
    ]);
    const stack = withInputs("events-api", { eventConfig: { ...eventConfig, logConfig: { logLevel: "DEBUG" } } });
    expect(await violations("appsync-logging-enabled", stack)).toEqual([
      "eventConfig.logConfig has no cloudwatchLogsRoleArn. To fix: create a role trusted by appsync.amazonaws.com that may write logs",
      'eventConfig.logConfig.logLevel is "DEBUG"; allowed: ERROR, INFO. To fix: pick an allowed level',
    ]);
  });

  it("allows every AppSync log level unless the pack config narrows them, and blocks a deployment", () => {
    expect(policyConfig(appsyncLoggingEnabled, {})).toEqual({ allowedLogLevels: ["ERROR", "INFO", "DEBUG", "ALL"] });
    expect(policyConfig(appsyncLoggingEnabled, PACK_CONFIG)).toEqual({ allowedLogLevels: ["ERROR", "INFO"] });
    expect(appsyncLoggingEnabled.configSchema?.properties.allowedLogLevels).toMatchObject({ type: "array", items: { type: "string", enum: ["ERROR", "INFO", "DEBUG", "ALL"] } });
    expect(appsyncLoggingEnabled).toMatchObject({ enforcementLevel: "mandatory", severity: "medium" });
  });

  it("refuses an Events API without a log config", async () => {
    const { logConfig: _dropped, ...rest } = eventConfig;
    const stack = withInputs("events-api", { eventConfig: rest });
    expect(await violations("appsync-logging-enabled", stack)).toEqual([expect.stringContaining("the Events API has no eventConfig.logConfig")]);
  });

  it("refuses a log level the stack does not allow, and a missing role", async () => {
    const stack = withInputs("events-api", { eventConfig: { ...eventConfig, logConfig: { logLevel: "ALL" } } });
    expect(await violations("appsync-logging-enabled", stack)).toEqual([
      expect.stringContaining("has no cloudwatchLogsRoleArn"),
      expect.stringContaining('logLevel is "ALL"; allowed: ERROR, INFO'),
    ]);
  });
});
