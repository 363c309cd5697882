import { describe, expect, it } from "vitest";
import { profileServesRegion } from "../../functions/lib/config/parse.js";
import { profileRoutesTo } from "../../policies/support/bedrock-arns.js";

// The pack loads as CommonJS on its own, so it keeps a copy of the schema's geo table.
const PREFIXES = ["us", "us-gov", "eu", "apac", "jp", "au", "ca", "global", "xx"];
const REGIONS = [
  "us-east-1", "us-east-2", "us-west-2", "us-gov-west-1", "eu-west-1", "eu-central-1", "eu-north-1",
  "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-2", "ap-southeast-4", "ap-south-1",
  "ca-central-1", "sa-east-1", "me-central-1",
];

describe("the policy pack's geo table", () => {
  it("agrees with the config schema's on every prefix and region", () => {
    for (const prefix of PREFIXES) {
      for (const region of REGIONS) {
        expect([prefix, region, profileRoutesTo(prefix, region)]).toEqual([prefix, region, profileServesRegion(prefix, region)]);
      }
    }
  });
});
