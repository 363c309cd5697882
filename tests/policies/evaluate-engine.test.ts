import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { blockingOutcomes, evaluatePolicies, type PolicyOutcome, type RecordedResource } from "../../policies/evaluate.js";

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "s3cret" };
const queue: RecordedResource = { type: "aws:sqs/queue:Queue", name: "q", urn: "urn:q", inputs: { name: "q", tags: [SECRET, "plain"] }, state: { arn: "arn:q" }, parent: "urn:parent" };
const table: RecordedResource = { type: "aws:dynamodb/table:Table", name: "t", urn: "urn:t", inputs: { name: "t" } };

const resourcePolicy = (validateResource: ResourceValidationPolicy["validateResource"], extra: Partial<ResourceValidationPolicy> = {}): ResourceValidationPolicy =>
  ({ name: "resource-check", description: "d", enforcementLevel: "mandatory", validateResource, ...extra }) as ResourceValidationPolicy;
const stackPolicy = (validateStack: StackValidationPolicy["validateStack"], extra: Partial<StackValidationPolicy> = {}): StackValidationPolicy =>
  ({ name: "stack-check", description: "d", enforcementLevel: "mandatory", validateStack, ...extra }) as StackValidationPolicy;

describe("running policies the way the engine does", () => {
  it("hands a resource policy plain values (secrets in lists unwrapped) and a plain resource's options", async () => {
    const seen: unknown[] = [];
    await evaluatePolicies([queue], {}, [resourcePolicy((args) => void seen.push({ props: args.props, opts: args.opts }))]);
    expect(seen).toEqual([
      {
        props: { name: "q", tags: ["s3cret", "plain"] },
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: "urn:parent" },
      },
    ]);
  });

  it("hands a stack policy every resource with its state, no dependencies, and options", async () => {
    let seen: unknown;
    await evaluatePolicies([queue], {}, [stackPolicy((args) => void (seen = args.resources.map((r) => ({ props: r.props, deps: r.dependencies, parent: r.opts.parent, protect: r.opts.protect }))))]);
    expect(seen).toEqual([{ props: { name: "q", tags: ["s3cret", "plain"], arn: "arn:q" }, deps: [], parent: "urn:parent", protect: false }]);
  });

  it("refuses type checks, which the pack never needs", async () => {
    const calls = evaluatePolicies([queue], {}, [resourcePolicy((args) => void args.isType({} as never))]);
    await expect(calls).rejects.toThrow("policies in this pack compare type tokens; isType/asType are not used");
  });

  it("gives a policy only the config keys its schema defaults or the pack sets", async () => {
    let config: object = {};
    const schema = { properties: { withDefault: { type: "number" as const, default: 3 }, without: { type: "number" as const } } };
    await evaluatePolicies([queue], {}, [resourcePolicy((args) => void (config = args.getConfig()), { configSchema: schema })]);
    expect(Object.keys(config)).toEqual(["withDefault"]);
  });

  it("runs every validation of a resource policy, and skips resources it is not applicable to", async () => {
    const outcomes = await evaluatePolicies([queue, table], {}, [
      resourcePolicy([
        (args: ResourceValidationArgs, report: ReportViolation) => (args.type === "aws:sqs/queue:Queue" ? args.notApplicable() : report(`first ${args.name}`)),
        (args: ResourceValidationArgs, report: ReportViolation) => report(`second ${args.name}`),
      ]),
    ]);
    expect(outcomes[0]!.violations.map((v) => v.message)).toEqual(["second q", "first t", "second t"]);
    expect(outcomes[0]!.notApplicable).toBeUndefined();
  });

  it("records a stack policy's not-applicable reason, 'not applicable' when it gives none, and rethrows real failures", async () => {
    const [given, bare] = await evaluatePolicies([queue], {}, [
      stackPolicy((args) => args.notApplicable("no archive readable")),
      stackPolicy((args) => args.notApplicable(), { name: "bare" }),
    ]);
    expect(given!.notApplicable).toBe("no archive readable");
    expect(bare!.notApplicable).toBe("not applicable");
    await expect(evaluatePolicies([queue], {}, [stackPolicy(() => { throw new Error("boom"); })])).rejects.toThrow("boom");
    await expect(evaluatePolicies([queue], {}, [resourcePolicy(() => { throw new Error("bang"); })])).rejects.toThrow("bang");
  });

  it("reports nothing for a resource policy that only remediates (the evaluator runs no remediation)", async () => {
    const [outcome] = await evaluatePolicies([queue, table], {}, [resourcePolicy(undefined, { remediateResource: () => undefined })]);
    expect(outcome!.violations).toEqual([]);
  });

  it("takes a policy without an enforcement level as advisory", async () => {
    const [outcome] = await evaluatePolicies([queue], {}, [resourcePolicy(() => undefined, { enforcementLevel: undefined })]);
    expect(outcome!.enforcementLevel).toBe("advisory");
  });
});

describe("what blocks a deployment", () => {
  const outcome = (enforcementLevel: PolicyOutcome["enforcementLevel"], violations = 1): PolicyOutcome => ({
    policy: enforcementLevel,
    enforcementLevel,
    violations: Array.from({ length: violations }, () => ({ message: "m" })),
  });

  it("is a mandatory or remediating policy with violations, never an advisory one or one without violations", () => {
    const all = [outcome("mandatory"), outcome("remediate"), outcome("advisory"), outcome("mandatory", 0), outcome("disabled")];
    expect(blockingOutcomes(all).map((o) => o.policy)).toEqual(["mandatory", "remediate"]);
  });
});
