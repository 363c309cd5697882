import { describe, expect, it } from "vitest";
import { profilePrefix, unjustifiedBedrockArn } from "../../policies/support/bedrock-arns.js";

const ACCOUNT = "111122223333";
const US_PROFILE = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const MODEL = "anthropic.claude-sonnet-4-20250514-v1:0";
const LITE = "amazon.nova-lite-v1:0";
const profileArn = (region: string, account: string, id: string) => `arn:aws:bedrock:${region}:${account}:inference-profile/${id}`;
const modelArn = (region: string, id: string) => `arn:aws:bedrock:${region}::foundation-model/${id}`;

describe("which Bedrock ARNs an allowlist justifies", () => {
  it("reads a profile prefix only from ids of three or more parts that start with a known geography", () => {
    expect(profilePrefix(US_PROFILE)).toBe("us");
    expect(profilePrefix("global.anthropic.claude-sonnet-4-5-20250929-v1:0")).toBe("global");
    expect(profilePrefix(LITE)).toBeUndefined();
    expect(profilePrefix("us.nova")).toBeUndefined();
    expect(profilePrefix("xx.amazon.nova-lite-v1:0")).toBeUndefined();
  });

  it("justifies an allowlisted profile in the stack's region, in a 12-digit or wildcard account", () => {
    expect(unjustifiedBedrockArn(profileArn("us-east-1", ACCOUNT, US_PROFILE), [US_PROFILE], "us-east-1")).toBeUndefined();
    expect(unjustifiedBedrockArn(profileArn("us-east-1", "*", US_PROFILE), [US_PROFILE], "us-east-1")).toBeUndefined();
    expect(unjustifiedBedrockArn(profileArn("us-west-2", ACCOUNT, US_PROFILE), [US_PROFILE])).toBeUndefined();
  });

  it("names why a profile ARN is not justified: not allowlisted, odd account, other region", () => {
    expect(unjustifiedBedrockArn(profileArn("us-east-1", ACCOUNT, "us.amazon.nova-pro-v1:0"), [US_PROFILE], "us-east-1")).toBe(
      'inference profile "us.amazon.nova-pro-v1:0", which is not allowlisted',
    );
    // A profile ARN naming a plain model id is no profile, even when that id is allowlisted.
    expect(unjustifiedBedrockArn(profileArn("us-east-1", ACCOUNT, LITE), [LITE], "us-east-1")).toBe(`inference profile "${LITE}", which is not allowlisted`);
    for (const account of ["", "12345678901", "1111222233334", "x11122223333"]) {
      expect(unjustifiedBedrockArn(profileArn("us-east-1", account, US_PROFILE), [US_PROFILE], "us-east-1")).toBe(
        `inference profile "${US_PROFILE}" in an unexpected account "${account}"`,
      );
    }
    expect(unjustifiedBedrockArn(profileArn("us-west-2", ACCOUNT, US_PROFILE), [US_PROFILE], "us-east-1")).toBe(
      `inference profile "${US_PROFILE}" in us-west-2, not the stack's region us-east-1`,
    );
    expect(unjustifiedBedrockArn(profileArn("", ACCOUNT, US_PROFILE), [US_PROFILE], "us-east-1")).toBe(
      `inference profile "${US_PROFILE}" in no region, not the stack's region us-east-1`,
    );
  });

  it("refuses every model, non-Bedrock ARNs, ARNs with text around them, and other Bedrock resource kinds", () => {
    expect(unjustifiedBedrockArn("*", [LITE])).toBe("every model (`*`)");
    const notModel = "a resource that is not a foundation-model or inference-profile ARN";
    expect(unjustifiedBedrockArn("arn:aws:s3:::bucket/key", [LITE])).toBe(notModel);
    expect(unjustifiedBedrockArn(` ${modelArn("us-east-1", LITE)}`, [LITE])).toBe(notModel);
    expect(unjustifiedBedrockArn(`${modelArn("us-east-1", LITE)}\n`, [LITE])).toBe(notModel);
    expect(unjustifiedBedrockArn(`arn:aws:bedrock:us-east-1:${ACCOUNT}:guardrail/abc`, [LITE])).toBe(
      "a guardrail ARN; only allowlisted foundation models and inference profiles may be invoked",
    );
  });

  it("justifies an allowlisted foundation model in the stack's region only, never with an account", () => {
    expect(unjustifiedBedrockArn(modelArn("us-east-1", LITE), [LITE], "us-east-1")).toBeUndefined();
    expect(unjustifiedBedrockArn(modelArn("eu-west-1", LITE), [LITE])).toBeUndefined();
    expect(unjustifiedBedrockArn(modelArn("us-west-2", LITE), [LITE], "us-east-1")).toBe(
      `foundation model "${LITE}" in us-west-2, not the stack's region us-east-1`,
    );
    expect(unjustifiedBedrockArn(modelArn("", LITE), [LITE], "us-east-1")).toBe(`foundation model "${LITE}" in no region, not the stack's region us-east-1`);
    expect(unjustifiedBedrockArn(`arn:aws:bedrock:us-east-1:${ACCOUNT}:foundation-model/${LITE}`, [LITE], "us-east-1")).toBe(
      `foundation model "${LITE}" with an account id; foundation-model ARNs have none`,
    );
    expect(unjustifiedBedrockArn(modelArn("us-east-1", "amazon.nova-pro-v1:0"), [LITE], "us-east-1")).toBe(
      'foundation model "amazon.nova-pro-v1:0", which is not allowlisted',
    );
  });

  it("justifies a profile's model in the regions of its geography, and region-less only for global", () => {
    expect(unjustifiedBedrockArn(modelArn("us-west-2", MODEL), [US_PROFILE], "us-east-1")).toBeUndefined();
    expect(unjustifiedBedrockArn(modelArn("eu-west-1", MODEL), [US_PROFILE], "us-east-1")).toBe(
      `foundation model "${MODEL}" in eu-west-1, where profile "${US_PROFILE}" never routes`,
    );
    expect(unjustifiedBedrockArn(modelArn("", MODEL), [US_PROFILE], "us-east-1")).toBe(`foundation model "${MODEL}" in no region, where profile "${US_PROFILE}" never routes`);
    const global = `global.${MODEL}`;
    expect(unjustifiedBedrockArn(modelArn("", MODEL), [global], "us-east-1")).toBeUndefined();
    expect(unjustifiedBedrockArn(modelArn("sa-east-1", MODEL), [global], "us-east-1")).toBeUndefined();
  });

  it("reports the first reason when several allowlist entries name the model, and accepts any one that justifies it", () => {
    const eu = `eu.${MODEL}`;
    expect(unjustifiedBedrockArn(modelArn("ap-south-1", MODEL), [US_PROFILE, eu], "us-east-1")).toBe(
      `foundation model "${MODEL}" in ap-south-1, where profile "${US_PROFILE}" never routes`,
    );
    expect(unjustifiedBedrockArn(modelArn("eu-west-1", MODEL), [US_PROFILE, eu], "us-east-1")).toBeUndefined();
    expect(unjustifiedBedrockArn(modelArn("us-west-2", MODEL), [MODEL, US_PROFILE], "us-east-1")).toBeUndefined();
  });
});
