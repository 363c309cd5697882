import { describe, expect, it } from "vitest";
import { iamBedrockInvokeAllowlist, iamNoWildcardActions, iamNoWildcardResources, SCOPED_SERVICES } from "../../policies/rules/iam.js";
import { arn, changed, COMPLIANT_BEDROCK_ARNS, compliantStack, document, PACK_CONFIG, resource, violations, withInputs } from "./fixtures.js";

const rolePolicy = (...statements: Record<string, unknown>[]) => withInputs("worker-policy", { policy: document(...statements) });

describe("iam-no-wildcard-actions", () => {
  it("passes the compliant stack, whose only s3:* is a Deny", async () => {
    expect(await violations("iam-no-wildcard-actions", compliantStack())).toEqual([]);
  });

  it("refuses an Allow of every action", async () => {
    const found = await violations("iam-no-wildcard-actions", rolePolicy({ Effect: "Allow", Action: "*", Resource: arn.table("usage") }));
    expect(found).toEqual([expect.stringContaining('policy allows the wildcard action "*". To fix: list the exact actions')]);
  });

  it("refuses a whole-service wildcard in a role's inline policy given as an object", async () => {
    const role = resource("aws:iam/role:Role", "worker-role", {
      assumeRolePolicy: document({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }),
      inlinePolicies: [{ name: "tables", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["dynamodb:*"], Resource: arn.table("usage") }] } }],
    });
    const found = await violations("iam-no-wildcard-actions", [...compliantStack(), role]);
    expect(found).toEqual([expect.stringContaining('inlinePolicies[0] (tables) allows the wildcard action "dynamodb:*"')]);
  });

  it("refuses partial wildcards like dynamodb:*Item, s3:Get* and s3:Get?bject", async () => {
    const found = await violations(
      "iam-no-wildcard-actions",
      rolePolicy({ Effect: "Allow", Action: ["dynamodb:*Item", "s3:Get*", "s3:Get?bject", "dynamodb:GetItem"], Resource: arn.table("usage") }),
    );
    expect(found).toEqual([
      expect.stringContaining('policy allows the wildcard action "dynamodb:*Item". To fix: list the exact actions'),
      expect.stringContaining('allows the wildcard action "s3:Get*"'),
      expect.stringContaining('allows the wildcard action "s3:Get?bject"'),
    ]);
  });

  it("ignores wildcard actions in Deny statements", async () => {
    expect(await violations("iam-no-wildcard-actions", rolePolicy({ Effect: "Deny", Action: "s3:Delete*", Resource: "arn:aws:s3:::analytics-bucket/*" }))).toEqual([]);
  });

  it("refuses Allow with NotAction", async () => {
    const found = await violations("iam-no-wildcard-actions", rolePolicy({ Effect: "Allow", NotAction: "iam:*", Resource: arn.table("usage") }));
    expect(found).toEqual([expect.stringContaining("allows everything except iam:* (Allow with NotAction)")]);
  });
});

describe("iam-no-wildcard-resources", () => {
  it("refuses DynamoDB actions on every resource", async () => {
    const found = await violations("iam-no-wildcard-resources", rolePolicy({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: "*" }));
    expect(found).toEqual([expect.stringContaining('grants dynamodb actions on every resource ("*")')]);
  });

  it("refuses an ARN naming every table, queue or bucket", async () => {
    const found = await violations(
      "iam-no-wildcard-resources",
      rolePolicy(
        { Effect: "Allow", Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/*" },
        { Effect: "Allow", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:123456789012:*" },
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::*/*" },
      ),
    );
    expect(found).toEqual([
      expect.stringContaining('grants dynamodb actions on every resource ("arn:aws:dynamodb:us-east-1:123456789012:table/*")'),
      expect.stringContaining('grants sqs actions on every resource ("arn:aws:sqs:us-east-1:123456789012:*")'),
      expect.stringContaining('grants s3 actions on every resource ("arn:aws:s3:::*/*")'),
    ]);
  });

  it("refuses partial wildcards in an ARN's resource part: a namespace prefix, a table prefix, a key pattern", async () => {
    const found = await violations(
      "iam-no-wildcard-resources",
      rolePolicy(
        { Effect: "Allow", Action: "appsync:EventPublish", Resource: "arn:aws:appsync:us-east-1:123456789012:apis/abc/*" },
        { Effect: "Allow", Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/gateway-*" },
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::gateway-*/*" },
        { Effect: "Allow", Action: "firehose:PutRecord", Resource: "arn:aws:firehose:us-east-1:123456789012:deliverystream/turn?" },
      ),
    );
    expect(found).toEqual([
      expect.stringContaining(
        'policy grants appsync actions on whatever matches the wildcard ARN "arn:aws:appsync:us-east-1:123456789012:apis/abc/*". To fix: name each resource\'s exact ARN',
      ),
      expect.stringContaining('grants dynamodb actions on whatever matches the wildcard ARN "arn:aws:dynamodb:us-east-1:123456789012:table/gateway-*"'),
      expect.stringContaining('grants s3 actions on whatever matches the wildcard ARN "arn:aws:s3:::gateway-*/*"'),
      expect.stringContaining('grants firehose actions on whatever matches the wildcard ARN "arn:aws:firehose:us-east-1:123456789012:deliverystream/turn?"'),
    ]);
  });

  it("refuses wildcards in an ARN's region or account", async () => {
    const found = await violations(
      "iam-no-wildcard-resources",
      rolePolicy(
        { Effect: "Allow", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:*:*:q*" },
        { Effect: "Allow", Action: "dynamodb:Query", Resource: ["arn:aws:dynamodb:*:123456789012:table/usage", "arn:aws:dynamodb:us-east-1:*:table/usage/index/*"] },
      ),
    );
    expect(found).toEqual([
      expect.stringContaining('grants sqs actions on whatever matches the wildcard ARN "arn:aws:sqs:*:*:q*"'),
      expect.stringContaining('"arn:aws:dynamodb:*:123456789012:table/usage"'),
      expect.stringContaining('"arn:aws:dynamodb:us-east-1:*:table/usage/index/*"'),
    ]);
  });

  it("accepts a table's own indexes, a bucket's objects below a fixed prefix, and log-group ARNs beside scoped actions", async () => {
    const found = await violations(
      "iam-no-wildcard-resources",
      rolePolicy(
        { Effect: "Allow", Action: "dynamodb:Query", Resource: [arn.table("usage"), `${arn.table("usage")}/index/*`] },
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::analytics-bucket/turns/*" },
        { Effect: "Allow", Action: ["sqs:SendMessage", "logs:PutLogEvents"], Resource: [arn.queue("worker-failures"), "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/worker:*"] },
      ),
    );
    expect(found).toEqual([]);
  });

  it("accepts a bucket's own objects and * on services that need it", async () => {
    const found = await violations(
      "iam-no-wildcard-resources",
      rolePolicy(
        { Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::analytics-bucket/*" },
        { Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" },
      ),
    );
    expect(found).toEqual([]);
  });

  it("refuses NotResource on scoped services", async () => {
    const found = await violations("iam-no-wildcard-resources", rolePolicy({ Effect: "Allow", Action: "firehose:PutRecord", NotResource: "arn:aws:firehose:us-east-1:123456789012:deliverystream/other" }));
    expect(found).toEqual([expect.stringContaining("grants firehose actions on everything except")]);
  });
});

describe("iam-bedrock-invoke-allowlist", () => {
  const invoke = (resources: string[], action: string | string[] = "bedrock:InvokeModelWithResponseStream") =>
    violations("iam-bedrock-invoke-allowlist", rolePolicy({ Effect: "Allow", Action: action, Resource: resources }));

  it("accepts the profile ARN in the stack region and the model in the profile's destination regions", async () => {
    expect(await invoke(COMPLIANT_BEDROCK_ARNS)).toEqual([]);
  });

  it("refuses a model that is not allowlisted", async () => {
    expect(await invoke([arn.model("us-east-1", "anthropic.claude-opus-4-v1:0")])).toEqual([
      expect.stringContaining('allows invoking foundation model "anthropic.claude-opus-4-v1:0", which is not allowlisted'),
    ]);
  });

  it("refuses every model, by * or by a wildcard model ARN, also through bedrock:Invoke*", async () => {
    const found = await invoke(["*", "arn:aws:bedrock:us-east-1::foundation-model/*"], "bedrock:Invoke*");
    expect(found).toEqual([expect.stringContaining("every model (`*`)"), expect.stringContaining('foundation model "*", which is not allowlisted')]);
  });

  it("refuses a profile's model in a region the profile never routes to", async () => {
    expect(await invoke([arn.model("eu-west-1", "amazon.nova-lite-v1:0")])).toEqual([
      expect.stringContaining('foundation model "amazon.nova-lite-v1:0" in eu-west-1, where profile "us.amazon.nova-lite-v1:0" never routes'),
    ]);
  });

  it("refuses an allowlisted profile in another region than the stack's", async () => {
    const other = "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.amazon.nova-lite-v1:0";
    expect(await invoke([other])).toEqual([expect.stringContaining("not the stack's region us-east-1")]);
  });

  it("ignores Bedrock actions that run no model", async () => {
    const found = await violations("iam-bedrock-invoke-allowlist", rolePolicy({ Effect: "Allow", Action: "bedrock:ApplyGuardrail", Resource: "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc" }));
    expect(found).toEqual([]);
  });
});

describe("iam-no-managed-policy-attachments", () => {
  const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
  const attachment = (type: string, name: string, inputs: Record<string, unknown>) => [...compliantStack(), resource(type, name, inputs)];

  it("passes the compliant stack, whose permissions are all inline", async () => {
    expect(await violations("iam-no-managed-policy-attachments", compliantStack())).toEqual([]);
  });

  it("refuses AdministratorAccess attached through a RolePolicyAttachment", async () => {
    const found = await violations("iam-no-managed-policy-attachments", attachment("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", { role: "worker-role", policyArn: ADMIN }));
    expect(found).toEqual([
      `policyArn attaches the managed policy "${ADMIN}", whose permissions the pack cannot check. To fix: grant the exact actions in an inline aws.iam.RolePolicy, or review the policy and add its ARN to allowedPolicyArns`,
    ]);
  });

  it("refuses managed policies on a Role, a PolicyAttachment, a user, a group and an exclusive attachment", async () => {
    const stack = [
      ...compliantStack(),
      resource("aws:iam/role:Role", "admin-role", { assumeRolePolicy: "{}", managedPolicyArns: [ADMIN, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"] }),
      resource("aws:iam/policyAttachment:PolicyAttachment", "shared", { roles: ["worker-role"], policyArn: ADMIN }),
      resource("aws:iam/userPolicyAttachment:UserPolicyAttachment", "ops-user", { user: "ops", policyArn: ADMIN }),
      resource("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "ops-group", { group: "ops", policyArn: "arn:aws:iam::123456789012:policy/ops" }),
      resource("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "exclusive", { roleName: "worker-role", policyArns: [ADMIN] }),
      resource("aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive", "user-exclusive", { userName: "ops", policyArns: [ADMIN] }),
      resource("aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive", "group-exclusive", { groupName: "ops", policyArns: [ADMIN] }),
    ];
    const found = await violations("iam-no-managed-policy-attachments", stack);
    expect(found).toEqual([
      expect.stringContaining(`managedPolicyArns attaches the managed policy "${ADMIN}"`),
      expect.stringContaining('managedPolicyArns attaches the managed policy "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"'),
      expect.stringContaining(`policyArn attaches the managed policy "${ADMIN}"`),
      expect.stringContaining(`policyArn attaches the managed policy "${ADMIN}"`),
      expect.stringContaining('policyArn attaches the managed policy "arn:aws:iam::123456789012:policy/ops"'),
      expect.stringContaining(`policyArns attaches the managed policy "${ADMIN}"`),
      expect.stringContaining(`policyArns attaches the managed policy "${ADMIN}"`),
      expect.stringContaining(`policyArns attaches the managed policy "${ADMIN}"`),
    ]);
  });

  it("judges only the ARNs it can read: an entry not known yet (an unresolved output) is not reported", async () => {
    const stack = [...compliantStack(), resource("aws:iam/role:Role", "pending-role", { assumeRolePolicy: "{}", managedPolicyArns: [undefined, ADMIN] })];
    expect(await violations("iam-no-managed-policy-attachments", stack)).toEqual([expect.stringContaining(`managedPolicyArns attaches the managed policy "${ADMIN}"`)]);
  });

  it("accepts a managed policy the config allows, and an exclusive attachment that attaches none", async () => {
    const basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    const stack = [
      ...compliantStack(),
      resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "basic", { role: "worker-role", policyArn: basic }),
      resource("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "none", { roleName: "worker-role", policyArns: [] }),
    ];
    const config = { ...PACK_CONFIG, "iam-no-managed-policy-attachments": { allowedPolicyArns: [basic] } };
    expect(await violations("iam-no-managed-policy-attachments", stack, config)).toEqual([]);
  });
});

describe("iam policies: messages, Deny statements and mixed statements", () => {
  const opus = arn.model("us-east-1", "anthropic.claude-opus-4-v1:0");

  it("names every action an Allow with NotAction leaves out, and how to fix it", async () => {
    const found = await violations("iam-no-wildcard-actions", rolePolicy({ Effect: "Allow", NotAction: ["s3:DeleteObject", "s3:PutObject"], Resource: arn.table("usage") }));
    expect(found).toEqual([expect.stringMatching(/ allows everything except s3:DeleteObject, s3:PutObject \(Allow with NotAction\)\. To fix: replace NotAction with an explicit Action list$/)]);
  });

  it("leaves Deny statements on every resource alone", async () => {
    const deny = rolePolicy({ Effect: "Deny", Action: ["dynamodb:DeleteTable", "bedrock:InvokeModel"], Resource: "*" });
    expect(await violations("iam-no-wildcard-resources", deny)).toEqual([]);
    expect(await violations("iam-bedrock-invoke-allowlist", deny)).toEqual([]);
  });

  it("refuses every action on every resource, and Bedrock actions that run no model on every resource", async () => {
    expect(await violations("iam-no-wildcard-resources", rolePolicy({ Effect: "Allow", Action: "*", Resource: "*" }))).toEqual([
      expect.stringMatching(/ grants \* actions on every resource \("\*"\)\. To fix: name the stack's own resource ARNs$/),
    ]);
    expect(await violations("iam-no-wildcard-resources", rolePolicy({ Effect: "Allow", Action: "bedrock:ApplyGuardrail", Resource: "*" }))).toEqual([
      expect.stringContaining(' grants bedrock actions on every resource ("*")'),
    ]);
  });

  it("names each scoped service of a statement once, and every excluded resource of a NotResource", async () => {
    const found = await violations(
      "iam-no-wildcard-resources",
      rolePolicy({ Effect: "Allow", Action: ["dynamodb:GetItem", "sqs:SendMessage", "dynamodb:PutItem"], NotResource: [arn.table("usage"), arn.queue("worker-failures")] }),
    );
    expect(found).toEqual([
      expect.stringMatching(new RegExp(` grants dynamodb, sqs actions on everything except ${arn.table("usage")}, ${arn.queue("worker-failures")} \\(NotResource\\)\\. To fix: name the resources with Resource$`)),
    ]);
  });

  it("refuses bedrock:InvokeModel itself on a model that is not allowlisted, also beside other actions, saying how to fix it", async () => {
    for (const Action of ["bedrock:InvokeModel", ["dynamodb:GetItem", "bedrock:InvokeModel"]]) {
      expect(await violations("iam-bedrock-invoke-allowlist", rolePolicy({ Effect: "Allow", Action, Resource: opus }))).toEqual([
        expect.stringMatching(/which is not allowlisted.*To fix: invoke only the allowlisted models' ARNs; add a model to `ai-gateway:models` and to allowedModelIds together$/),
      ]);
    }
  });

  it("still refuses unlisted models when the stack's region is unknown, and does not hold that against listed ones", async () => {
    const policy = (stack: ReturnType<typeof rolePolicy>, Resource: string[]) =>
      violations("iam-bedrock-invoke-allowlist", changed("worker-policy", (r) => ({ ...r, inputs: { policy: document({ Effect: "Allow", Action: "bedrock:InvokeModel", Resource }) } }), stack));
    // No provider recorded for the policy (a resource created with an explicit, unrecorded one).
    const noProvider = changed("worker-policy", (r) => ({ ...r, provider: undefined }));
    expect(await policy(noProvider, [opus])).toEqual([expect.stringContaining("which is not allowlisted")]);
    expect(await policy(noProvider, COMPLIANT_BEDROCK_ARNS)).toEqual([]);
    // The provider's region not yet known (an output during preview).
    const unresolved = withInputs("aws", { region: { unknown: true } });
    expect(await policy(unresolved, COMPLIANT_BEDROCK_ARNS)).toEqual([]);
    expect(await policy(unresolved, [opus])).toEqual([expect.stringContaining("which is not allowlisted")]);
  });

  it("blocks a deployment on each IAM finding, rating wildcards and unlisted models critical", () => {
    expect(iamNoWildcardActions).toMatchObject({ enforcementLevel: "mandatory", severity: "critical" });
    expect(iamNoWildcardResources).toMatchObject({ enforcementLevel: "mandatory", severity: "high" });
    expect(iamNoWildcardResources.description).toContain(`with ${SCOPED_SERVICES.join(", ")} actions`);
    expect(iamBedrockInvokeAllowlist).toMatchObject({ enforcementLevel: "mandatory", severity: "critical" });
    expect(iamBedrockInvokeAllowlist.configSchema).toEqual({
      properties: { allowedModelIds: { type: "array", items: { type: "string" }, description: expect.any(String) } },
      required: ["allowedModelIds"],
    });
  });
});
