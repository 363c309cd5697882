import { describe, expect, it } from "vitest";
import { WEB_ACL_DESCRIPTION } from "../../components/webAcl.js";
import { compliantStack, resource, violations } from "./fixtures.js";

const POLICY = "wafv2-description-format";

function withWafResource(type: string, description: string | undefined) {
  return [...compliantStack(), resource(type, "waf-thing", description === undefined ? { scope: "REGIONAL" } : { scope: "REGIONAL", description })];
}

const webAcl = (description: string | undefined) => withWafResource("aws:wafv2/webAcl:WebAcl", description);

describe("wafv2-description-format", () => {
  it("passes the gateway's own web ACL description", async () => {
    expect(await violations(POLICY, webAcl(WEB_ACL_DESCRIPTION))).toEqual([]);
  });

  it("refuses an apostrophe, naming the character and the fix", async () => {
    expect(await violations(POLICY, webAcl("Rate limit for the gateway's Events API"))).toEqual([
      expect.stringMatching(/the description "Rate limit for the gateway's Events API" contains "'", which AWS refuses .*would fail at creation\. To fix: use letters, digits/),
    ]);
  });

  it.each(["aws:wafv2/ruleGroup:RuleGroup", "aws:wafv2/ipSet:IpSet", "aws:wafv2/regexPatternSet:RegexPatternSet"])("judges a %s description too", async (type) => {
    expect(await violations(POLICY, withWafResource(type, "Blocked (bad) IPs"))).toEqual([expect.stringContaining('contains "(", ")", which AWS refuses')]);
    expect(await violations(POLICY, withWafResource(type, "Blocked IPs"))).toEqual([]);
  });

  it("accepts every character the pattern allows, and the 3-character minimum", async () => {
    expect(await violations(POLICY, webAcl("Aa0_ +=:#@/-,.\tend"))).toEqual([]);
    expect(await violations(POLICY, webAcl("a-b"))).toEqual([]);
  });

  it("refuses descriptions shorter than 3 characters or with whitespace at either end", async () => {
    expect(await violations(POLICY, webAcl("ab"))).toEqual([expect.stringContaining("is shorter than the 3 characters AWS requires")]);
    expect(await violations(POLICY, webAcl(" leading space"))).toEqual([expect.stringContaining("starts or ends with whitespace")]);
    expect(await violations(POLICY, webAcl("trailing newline\n"))).toEqual([expect.stringContaining("starts or ends with whitespace")]);
  });

  it("leaves a description that is not text alone instead of failing", async () => {
    expect(await violations(POLICY, [...compliantStack(), resource("aws:wafv2/webAcl:WebAcl", "waf-thing", { scope: "REGIONAL", description: 42 })])).toEqual([]);
  });

  it("calls a 3-character description with a space at one end a whitespace problem, not a short one", async () => {
    expect(await violations(POLICY, webAcl(" ab"))).toEqual([expect.stringContaining('the description " ab" starts or ends with whitespace, which AWS refuses')]);
  });

  it("refuses quotes, parentheses and letters outside ASCII", async () => {
    expect(await violations(POLICY, webAcl('The "gateway" API'))).toEqual([expect.stringContaining('contains "\\"", which AWS refuses')]);
    expect(await violations(POLICY, webAcl("Passerelle répartie"))).toEqual([expect.stringContaining('contains "é"')]);
  });

  it("passes a WAF resource without a description, and ignores other services' descriptions", async () => {
    expect(await violations(POLICY, webAcl(undefined))).toEqual([]);
    const lambdaWithApostrophe = [...compliantStack(), resource("aws:lambda/function:Function", "f", { description: "The gateway's worker" })];
    expect(await violations(POLICY, lambdaWithApostrophe)).toEqual([]);
  });
});
