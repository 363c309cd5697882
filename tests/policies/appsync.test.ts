import { describe, expect, it } from "vitest";
import { compliantStack, resource, violations, withInputs } from "./fixtures.js";

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
    expect(await violations("appsync-no-api-key-auth", stack)).toEqual([expect.stringContaining("an AppSync API key exists")]);
  });
});

describe("appsync-logging-enabled", () => {
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
