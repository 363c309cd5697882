import { describe, expect, it } from "vitest";
import { allowlistArns, bedrockResourceArns, foundationModelId, GEO_DESTINATION_REGIONS } from "../../components/lib/bedrockArns.js";
import { profileServesRegion } from "../../functions/lib/config/parse.js";

const ctx = { partition: "aws", region: "us-east-1", accountId: "111122223333" };

describe("Bedrock IAM resources for an allowlist", () => {
  it("scopes a plain model id to its foundation model in the stack's region", () => {
    expect(bedrockResourceArns("amazon.nova-lite-v1:0", ctx)).toEqual(["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"]);
  });

  it("allows a US profile and its model in every region the profile routes to", () => {
    const arns = bedrockResourceArns("us.anthropic.claude-sonnet-4-20250514-v1:0", ctx);
    expect(arns[0]).toBe("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0");
    expect(arns.slice(1).sort()).toEqual(
      GEO_DESTINATION_REGIONS.us!.map((r) => `arn:aws:bedrock:${r}::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0`).sort(),
    );
  });

  it("includes the source region even when the geo table does not list it", () => {
    const arns = bedrockResourceArns("eu.amazon.nova-pro-v1:0", { ...ctx, region: "eu-south-9" });
    expect(arns).toContain("arn:aws:bedrock:eu-south-9::foundation-model/amazon.nova-pro-v1:0");
    expect(arns).toContain("arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0");
  });

  it("adds the region-less model ARN for global profiles", () => {
    expect(bedrockResourceArns("global.anthropic.claude-sonnet-4-5-20250929-v1:0", ctx)).toEqual([
      "arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
      "arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
  });

  it("uses the partition of the account, as in GovCloud", () => {
    const arns = bedrockResourceArns("us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0", {
      partition: "aws-us-gov",
      region: "us-gov-west-1",
      accountId: "111122223333",
    });
    expect(arns.every((a) => a.startsWith("arn:aws-us-gov:bedrock:"))).toBe(true);
    expect(arns).toContain("arn:aws-us-gov:bedrock:us-gov-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0");
  });

  it("strips only a geo prefix to find the foundation model", () => {
    expect(foundationModelId("apac.amazon.nova-micro-v1:0")).toBe("amazon.nova-micro-v1:0");
    expect(foundationModelId("meta.llama3-3-70b-instruct-v1:0")).toBe("meta.llama3-3-70b-instruct-v1:0");
  });

  it("lists each ARN once across an allowlist", () => {
    const arns = allowlistArns(["us.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"], ctx);
    expect(new Set(arns).size).toBe(arns.length);
    expect(arns).toContain("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0");
  });
});

describe("the destination regions of each inference-profile geography", () => {
  it("are regions the stack config lets that geography's profiles route to, none missing its home regions", () => {
    const home: Record<string, string[]> = {
      us: ["us-east-1", "us-east-2", "us-west-2"],
      "us-gov": ["us-gov-east-1", "us-gov-west-1"],
      eu: ["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"],
      apac: ["ap-northeast-1", "ap-south-1", "ap-southeast-2"],
      jp: ["ap-northeast-1", "ap-northeast-3"],
      au: ["ap-southeast-2", "ap-southeast-4"],
      ca: ["ca-central-1"],
    };
    // Global profiles are allowed through the region-less model ARN, so they list no region.
    expect(GEO_DESTINATION_REGIONS.global ?? []).toEqual([]);
    for (const [prefix, regions] of Object.entries(GEO_DESTINATION_REGIONS).filter(([p]) => p !== "global")) {
      expect(regions!.length, prefix).toBeGreaterThan(0);
      for (const region of regions!) expect(profileServesRegion(prefix, region), `${prefix} -> ${region}`).toBe(true);
      expect(regions, prefix).toEqual(expect.arrayContaining(home[prefix] ?? []));
    }
    expect(Object.keys(GEO_DESTINATION_REGIONS).sort()).toEqual(expect.arrayContaining(Object.keys(home).sort()));
  });

  it("lists every region a profile may route to, as AWS documents them", () => {
    expect(GEO_DESTINATION_REGIONS.us).toEqual(["us-east-1", "us-east-2", "us-west-1", "us-west-2"]);
    expect(GEO_DESTINATION_REGIONS.ca).toEqual(["ca-central-1", "ca-west-1"]);
    expect(GEO_DESTINATION_REGIONS.apac).toHaveLength(10);
    expect(new Set(GEO_DESTINATION_REGIONS.eu).size).toBe(GEO_DESTINATION_REGIONS.eu!.length);
  });
});
