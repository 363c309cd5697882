/**
 * `--model bedrock`: the worker calls Bedrock with the developer's default credential chain
 * while its publishes stay signed with the local IAM key. No AWS account here, so the SDK's
 * standard endpoint override (AWS_ENDPOINT_URL_BEDROCK_RUNTIME) points "real Bedrock" at the
 * Bedrock-compatible server, which records the credentials each request was signed with.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBedrockServer, type BedrockServer } from "../../local/bedrock/index.js";
import { applyEnvironment } from "../../local/lambda.js";
import { chatOnce, signInDemoUser, startTestGateway, type TestGateway } from "./support/gateway.js";

const DEVELOPER_KEY = "AKIDDEVELOPERCHAIN";

let bedrock: BedrockServer;
let t: TestGateway;
let restoreEnvironment: () => void;

beforeAll(async () => {
  bedrock = await startBedrockServer();
  restoreEnvironment = applyEnvironment({
    AWS_ACCESS_KEY_ID: DEVELOPER_KEY,
    AWS_SECRET_ACCESS_KEY: "developer-secret",
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
  });
});

afterAll(async () => {
  await t?.close();
  await bedrock?.close();
  restoreEnvironment?.();
});

describe("--model bedrock", () => {
  it("refuses to start without AWS credentials, saying what to configure", async () => {
    const restore = applyEnvironment({
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_EC2_METADATA_DISABLED: "true",
    });
    try {
      await expect(startTestGateway({ model: "bedrock" })).rejects.toThrow(/--model bedrock .*AWS credentials.*--model fake/s);
    } finally {
      restore();
    }
  });

  it("streams from Bedrock signed with the developer's credentials, and publishes with the local IAM key", async () => {
    t = await startTestGateway({ model: "bedrock" });
    expect(t.gateway.bedrock).toBeUndefined();
    const user = await signInDemoUser(t, "pro");
    const answer = await chatOnce(t, user, "Hello real Bedrock [[fake:tokens=4]]");
    expect(answer.map((e) => e.type).join(" ")).toMatch(/^start (delta )+done$/);

    const [request] = bedrock.requests;
    expect(request!.headers.authorization).toContain(`Credential=${DEVELOPER_KEY}/`);
    expect(request!.modelId).toBe(t.gateway.config.models.find((m) => m.default)!.id);
    // The local Events server accepts IAM publishes only with its own key: the answer arrived, so that key signed them.
    const outbound = t.gateway.events.published.filter((r) => r.channel === `/Outbound-Messages/${user.sub}`);
    expect(outbound.length).toBeGreaterThan(0);
    expect(outbound.every((r) => r.authMode === "AWS_IAM")).toBe(true);
  });
});
