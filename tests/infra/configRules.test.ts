/**
 * The stack-config rules `pulumi preview` enforces (functions/lib/config), pinned at their
 * boundaries: the last accepted value and the first refused one, each refusal naming its key.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, configWarnings, isPlaceholderEmail, parseGatewayConfig, regionPartition } from "../../functions/lib/config/parse.js";
import type { GatewayConfigInput } from "../../functions/lib/config/schema.js";
import { devLikeConfig, prodLikeConfig, problemsOf, withValue } from "../support/config-fixtures.js";


/** One foundation model (no geo prefix), so any region may call it. */
function anyRegionConfig(identity: Record<string, unknown> = {}): GatewayConfigInput {
  const config = devLikeConfig();
  return {
    ...config,
    models: [{ id: "amazon.nova-lite-v1:0", name: "Nova Lite", provider: "Amazon", maxOutputTokens: 5000 }],
    tiers: { default: { ...config.tiers.default!, models: ["*"], maxOutputTokensPerRequest: 1000 } },
    fallbackModels: [],
    identity: identity as GatewayConfigInput["identity"],
  };
}

describe("tiers.<name>.maxOutputTokensPerRequest fits some model", () => {
  // devLikeConfig's models produce at most 5000, 5000 and 8192 tokens.
  it("accepts a cap equal to the largest model's maxOutputTokens", () => {
    expect(problemsOf(devLikeConfig())).toEqual([]);
    expect(devLikeConfig().tiers.pro!.maxOutputTokensPerRequest).toBe(8192);
  });

  it("refuses a cap one token above every model's maxOutputTokens, naming the tier", () => {
    const raw = devLikeConfig();
    raw.tiers.pro!.maxOutputTokensPerRequest = 8193;
    expect(problemsOf(raw)).toEqual(["ai-gateway:tiers.pro.maxOutputTokensPerRequest: exceeds every model's maxOutputTokens (8192)"]);
  });

  it("accepts a cap above smaller models as long as one model reaches it", () => {
    const raw = devLikeConfig();
    raw.tiers.default!.maxOutputTokensPerRequest = 6000;
    expect(problemsOf(raw)).toEqual([]);
  });

  it("measures against the models' default maxOutputTokens (4096) when they set none", () => {
    const raw = anyRegionConfig();
    delete raw.models[0]!.maxOutputTokens;
    raw.tiers.default!.maxOutputTokensPerRequest = 4096;
    expect(problemsOf(raw)).toEqual([]);
    raw.tiers.default!.maxOutputTokensPerRequest = 4097;
    expect(problemsOf(raw)).toEqual(["ai-gateway:tiers.default.maxOutputTokensPerRequest: exceeds every model's maxOutputTokens (4096)"]);
  });
});

describe("identity.providers oidc and saml names follow Cognito's rule", () => {
  const oidc = (name: string) => ({ name, issuer: "https://login.example.com", clientId: "id", clientSecret: "secret" });
  const saml = (name: string) => ({ name, metadataUrl: "https://idp.example.com/metadata.xml" });
  const nameProblems = (providers: Record<string, unknown>) => problemsOf(anyRegionConfig({ providers })).filter((p) => p.includes("identity.providers"));

  it.each(["abc", "Corp-SSO", "corp_sso", "-ok", "a".repeat(32)])("accepts %j", (name) => {
    expect(nameProblems({ oidc: oidc(name), saml: saml(`${name.slice(0, 29)}2x`) })).toEqual([]);
  });

  it.each([
    ["shorter than 3 characters", "ab"],
    ["longer than 32 characters", "a".repeat(33)],
    ["a leading underscore", "_corp"],
    ["a trailing underscore", "corp_"],
    ["a space", "corp sso"],
  ])("refuses a name with %s, for OIDC and SAML alike", (_, name) => {
    expect(nameProblems({ oidc: oidc(name) })).toEqual([expect.stringMatching(/^ai-gateway:identity\.providers\.oidc\.name: must be 3-32 letters/)]);
    expect(nameProblems({ saml: saml(name) })).toEqual([expect.stringMatching(/^ai-gateway:identity\.providers\.saml\.name: must be 3-32 letters/)]);
  });

  it("refuses the names Cognito reserves, in any case", () => {
    expect(nameProblems({ oidc: oidc("Google") })).toEqual([expect.stringContaining("ai-gateway:identity.providers.oidc.name: must not be one of the names Cognito reserves")]);
    expect(nameProblems({ saml: saml("COGNITO") })).toEqual([expect.stringContaining("ai-gateway:identity.providers.saml.name: must not be one of the names Cognito reserves")]);
  });

  it("refuses an OIDC and a SAML provider with the same name", () => {
    expect(nameProblems({ oidc: oidc("Corp"), saml: saml("corp") })).toEqual([
      'ai-gateway:identity.providers.saml.name: same name as identity.providers.oidc.name ("Corp"); provider names must differ',
    ]);
  });
});

describe("identity.sesSourceArn", () => {
  const sesProblems = (arn: string, region: string) => problemsOf(anyRegionConfig({ sesSourceArn: arn }), region);

  it.each([
    ["aws", "us-east-1", "arn:aws:ses:us-east-1:111122223333:identity/example.com"],
    ["aws-cn", "cn-north-1", "arn:aws-cn:ses:cn-north-1:111122223333:identity/mail.example.cn"],
    ["aws-us-gov", "us-gov-west-1", "arn:aws-us-gov:ses:us-gov-west-1:111122223333:identity/ops@example.gov"],
    ["aws-iso-b", "us-isob-east-1", "arn:aws-iso-b:ses:us-isob-east-1:111122223333:identity/example.sgov"],
  ])("accepts an SES identity in the %s partition from a region of it", (_, region, arn) => {
    expect(sesProblems(arn, region)).toEqual([]);
  });

  it.each([
    ["another service", "arn:aws:sns:us-east-1:111122223333:identity/example.com"],
    ["an account id that is not 12 digits", "arn:aws:ses:us-east-1:1111222233:identity/example.com"],
    ["a configuration set instead of an identity", "arn:aws:ses:us-east-1:111122223333:configuration-set/gateway"],
    ["no region", "arn:aws:ses::111122223333:identity/example.com"],
    ["a partition that is not AWS's", "arn:gcp:ses:us-east-1:111122223333:identity/example.com"],
  ])("refuses %s", (_, arn) => {
    expect(sesProblems(arn, "us-east-1")).toEqual([expect.stringMatching(/^ai-gateway:identity\.sesSourceArn: expected a verified SES identity's ARN/)]);
  });

  it("refuses an identity from another partition than the stack's region", () => {
    expect(sesProblems("arn:aws:ses:us-east-1:111122223333:identity/example.com", "cn-north-1")).toEqual([
      expect.stringMatching(/^ai-gateway:identity\.sesSourceArn: the SES identity is in partition aws, but region cn-north-1 is in aws-cn/),
    ]);
  });

  it.each([
    ["us-east-1", "aws"],
    ["cn-northwest-1", "aws-cn"],
    ["us-gov-east-1", "aws-us-gov"],
    ["us-iso-east-1", "aws-iso"],
    ["us-isob-east-1", "aws-iso-b"],
    ["eu-isoe-west-1", "aws-iso-e"],
    ["us-isof-south-1", "aws-iso-f"],
    ["eusc-de-east-1", "aws-eusc"],
  ])("places region %s in partition %s", (region, partition) => {
    expect(regionPartition(region)).toBe(partition);
  });
});

describe("observability.alarmEmail placeholders", () => {
  it.each(["ops@example.com", "OPS@EXAMPLE.ORG", "alerts@mail.example.net", "me@corp.example", "a@b.test", "a@b.invalid", "root@localhost"])("treats %s as a placeholder", (address) => {
    expect(isPlaceholderEmail(address)).toBe(true);
  });

  it.each(["ops@company.com", "ops@example.com.au", "ops@myexample.com", "ops@examples.org", "ops@test.company.io"])("treats %s as a real address", (address) => {
    expect(isPlaceholderEmail(address)).toBe(false);
  });

  it("warns about a placeholder alarm address, naming the key, and about nothing else", () => {
    const prod = parseGatewayConfig(prodLikeConfig());
    expect(configWarnings(prod)).toEqual([expect.stringMatching(/^ai-gateway:observability\.alarmEmail: "ops@example\.com" is a placeholder/)]);
    expect(configWarnings(parseGatewayConfig({ ...prodLikeConfig(), observability: { alarmEmail: "ops@company.com" } }))).toEqual([]);
    expect(configWarnings(parseGatewayConfig(devLikeConfig()))).toEqual([]);
  });
});

describe("numeric bounds of the stack config", () => {
  /** [key path, last value accepted at the edge, first value refused past it] */
  const bounds: [string, number, number][] = [
    ["maxInputChars", 60_000, 60_001],
    ["maxInputChars", 1, 0],
    ["relay.flushIntervalMs", 10, 9],
    ["relay.flushIntervalMs", 2000, 2001],
    ["worker.timeoutSeconds", 30, 29],
    ["worker.timeoutSeconds", 900, 901],
    ["worker.memoryMb", 128, 127],
    ["worker.memoryMb", 10_240, 10_241],
    ["worker.reservedConcurrency", 10_000, 10_001],
    ["worker.maximumEventAgeSeconds", 60, 59],
    ["worker.maximumEventAgeSeconds", 21_600, 21_601],
    ["waf.rateLimitPer5Min", 10, 9],
    ["waf.rateLimitPer5Min", 2_000_000_000, 2_000_000_001],
    ["tiers.pro.priority", 1000, 1001],
    ["tiers.pro.maxConcurrentRequests", 100, 101],
    ["history.maxTurns", 200, 201],
  ];

  it.each(bounds)("%s accepts %i and refuses %i, naming the key", (path, accepted, refused) => {
    expect(problemsOf(withValue(path, accepted))).toEqual([]);
    expect(problemsOf(withValue(path, refused))).toEqual([expect.stringMatching(new RegExp(`^ai-gateway:${path.replace(/\./g, "\\.")}: `))]);
  });
});
