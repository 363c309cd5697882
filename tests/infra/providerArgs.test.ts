/**
 * The stack's `aws:*` config as AWS provider arguments: passed on, parsed where Pulumi
 * JSON-encodes it, refused (with the key) where it cannot be passed on.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../functions/lib/config/parse.js";
import { awsProviderArgs } from "../../components/lib/providerArgs.js";

const GATEWAY_TAGS = { "ai-gateway:project": "ai-gateway", "ai-gateway:stack": "prod" };
const BASE = { "aws:region": "us-east-1", "ai-gateway:models": "[]" };

function problemsOf(config: Record<string, string>): string[] {
  try {
    awsProviderArgs({ ...BASE, ...config }, GATEWAY_TAGS);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

function secretValue<T>(value: unknown): Promise<{ value: T; secret: boolean }> {
  const output = value as pulumi.Output<T>;
  return new Promise((resolve) => {
    output.apply(async (v) => resolve({ value: v, secret: await pulumi.isSecret(output) }));
  });
}

describe("awsProviderArgs", () => {
  it("passes the region and tags the provider with the gateway's two tags", () => {
    expect(awsProviderArgs(BASE, GATEWAY_TAGS)).toEqual({ region: "us-east-1", defaultTags: { tags: GATEWAY_TAGS } });
  });

  it("passes credential settings on: profile verbatim, account ids and files as lists, assumed roles as objects", () => {
    const args = awsProviderArgs(
      {
        ...BASE,
        "aws:profile": "123",
        "aws:allowedAccountIds": '["123456789012"]',
        "aws:sharedCredentialsFiles": '["/home/ops/.aws/credentials"]',
        "aws:assumeRoles": '[{"roleArn":"arn:aws:iam::123456789012:role/deploy","sessionName":"pulumi"}]',
        "aws:skipRequestingAccountId": "false",
        "aws:maxRetries": "5",
      },
      GATEWAY_TAGS,
    );
    expect(args).toMatchObject({
      profile: "123",
      allowedAccountIds: ["123456789012"],
      sharedCredentialsFiles: ["/home/ops/.aws/credentials"],
      assumeRoles: [{ roleArn: "arn:aws:iam::123456789012:role/deploy", sessionName: "pulumi" }],
      skipRequestingAccountId: false,
      maxRetries: 5,
    });
  });

  it("merges the operator's default tags with the gateway's", () => {
    const args = awsProviderArgs({ ...BASE, "aws:defaultTags": '{"tags":{"cost-center":"ml-42"}}' }, GATEWAY_TAGS);
    expect(args.defaultTags).toEqual({ tags: { "cost-center": "ml-42", ...GATEWAY_TAGS } });
  });

  it("keeps the web-identity role settings a Pulumi secret, as they carry a token", async () => {
    const args = awsProviderArgs(
      { ...BASE, "aws:assumeRoleWithWebIdentity": '{"roleArn":"arn:aws:iam::123456789012:role/ci","webIdentityToken":"eyJ-token"}' },
      GATEWAY_TAGS,
    );
    const { value, secret } = await secretValue<{ webIdentityToken: string }>(args.assumeRoleWithWebIdentity);
    expect(secret).toBe(true);
    expect(value.webIdentityToken).toBe("eyJ-token");
  });

  it("ignores keys of other namespaces", () => {
    expect(awsProviderArgs({ ...BASE, "ai-gateway:colour": "blue", "other:profile": "x" }, GATEWAY_TAGS)).not.toHaveProperty("profile");
  });

  it("refuses an unknown aws key, naming it", () => {
    expect(problemsOf({ "aws:profil": "ops" })).toEqual([expect.stringMatching(/^aws:profil: unknown key/)]);
  });

  it("refuses a stack without aws:region", () => {
    expect(() => awsProviderArgs({ "aws:profile": "ops" }, GATEWAY_TAGS)).toThrow("aws:region: required");
  });

  it("refuses account ids YAML turned into numbers, naming the item", () => {
    expect(problemsOf({ "aws:allowedAccountIds": "[123456789012]" })).toEqual(["aws:allowedAccountIds.0: expected a quoted 12-digit account id"]);
    expect(problemsOf({ "aws:allowedAccountIds": '["12345"]' })).toEqual(["aws:allowedAccountIds.0: expected a 12-digit account id"]);
  });

  it("refuses a list setting that is not valid JSON rather than dropping it", () => {
    expect(problemsOf({ "aws:allowedAccountIds": '["123456789012"' })).toEqual([expect.stringMatching(/^aws:allowedAccountIds: /)]);
  });

  it("takes only a whole 12-digit account id", () => {
    expect(problemsOf({ "aws:allowedAccountIds": '["x123456789012"]' })).toEqual(["aws:allowedAccountIds.0: expected a 12-digit account id"]);
    expect(problemsOf({ "aws:allowedAccountIds": '["1234567890123"]' })).toEqual(["aws:allowedAccountIds.0: expected a 12-digit account id"]);
  });

  it("takes ignoreTags with its keys and key prefixes, and a plain-text value as the text it is", () => {
    expect(() => awsProviderArgs({ ...BASE, "aws:ignoreTags": '{"keys":["owner"],"keyPrefixes":["tmp:"]}' }, GATEWAY_TAGS)).not.toThrow();
    expect(problemsOf({ "aws:ignoreTags": '{"key":["owner"]}' })).toEqual([expect.stringMatching(/^aws:ignoreTags: .*key/)]);
    expect(awsProviderArgs({ ...BASE, "aws:profile": "ops {team}" }, GATEWAY_TAGS)).toMatchObject({ profile: "ops {team}" });
  });

  it("refuses a misspelt field of an assumed role, naming its path", () => {
    const [problem] = problemsOf({ "aws:assumeRoles": '[{"rolearn":"arn:aws:iam::123456789012:role/deploy"}]' });
    expect(problem).toMatch(/^aws:assumeRoles\.0: .*rolearn/);
  });

  it("refuses a boolean setting given as text", () => {
    expect(problemsOf({ "aws:insecure": "yes" })).toEqual([expect.stringMatching(/^aws:insecure: /)]);
  });

  it("refuses allowed and forbidden account lists together", () => {
    const problems = problemsOf({ "aws:allowedAccountIds": '["123456789012"]', "aws:forbiddenAccountIds": '["210987654321"]' });
    expect(problems).toEqual([expect.stringContaining("not both")]);
  });

  it("refuses an operator tag that would redefine one of the gateway's", () => {
    expect(problemsOf({ "aws:defaultTags": '{"tags":{"ai-gateway:stack":"other"}}' })).toEqual([
      "aws:defaultTags.tags.ai-gateway:stack: reserved; the program sets this tag itself",
    ]);
  });

  it("reports every bad key at once", () => {
    expect(problemsOf({ "aws:profil": "ops", "aws:insecure": "yes" })).toHaveLength(2);
  });
});
