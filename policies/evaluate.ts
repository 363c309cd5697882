/**
 * Running the pack's policies outside the Pulumi engine, over the resources a mocked run of
 * the program registered: `npm run policy` and the tests use it. It builds the same argument
 * bags the engine builds (resource validation sees inputs, stack validation sees outputs,
 * both see the resource's provider) and calls validateResource/validateStack directly.
 */
import type {
  EnforcementLevel,
  Policy,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { policies as packPolicies } from "./policies";

/** A resource as a mocked program run records it (tools/mocked-stack.ts). */
export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, any>;
  state?: Record<string, any>;
  parent?: string;
  /** The provider reference, `<provider urn>::<provider id>`. */
  provider?: string;
}

/** The policy config file's shape: a level, or a level plus the policy's properties. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface Violation {
  message: string;
  urn?: string;
}

export interface PolicyOutcome {
  policy: string;
  enforcementLevel: EnforcementLevel;
  violations: Violation[];
  /** Set when a stack policy declared itself not applicable (args.notApplicable), with its reason. */
  notApplicable?: string;
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Secrets become their plain values, as the engine hands them to policies; assets stay objects. */
function plain(value: unknown): any {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) return plain(record.value);
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
}

/** The policy's config: its schema defaults overlaid with the pack config's entry. */
export function policyConfig(policy: Policy, config: PackConfig): Record<string, unknown> {
  const defaults = Object.fromEntries(
    Object.entries(policy.configSchema?.properties ?? {})
      .filter(([, schema]) => schema.default !== undefined)
      .map(([key, schema]) => [key, schema.default]),
  );
  const entry = config[policy.name];
  const { enforcementLevel: _level, ...values } = typeof entry === "object" ? entry : {};
  const merged = { ...defaults, ...values };
  for (const key of policy.configSchema?.required ?? []) {
    if (merged[key] === undefined) throw new Error(`policy ${policy.name} needs "${key}" in its config`);
  }
  return merged;
}

export function enforcementLevelOf(policy: Policy, config: PackConfig): EnforcementLevel {
  const entry = config[policy.name] ?? config.all;
  const level = typeof entry === "string" ? entry : entry?.enforcementLevel;
  return level ?? policy.enforcementLevel ?? "advisory";
}

class NotApplicable extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function providerOf(resource: RecordedResource, byUrn: Map<string, RecordedResource>) {
  if (!resource.provider) return undefined;
  const urn = resource.provider.split("::").slice(0, -1).join("::") || resource.provider;
  const provider = byUrn.get(urn);
  return provider ? { type: provider.type, name: provider.name, urn: provider.urn, props: plain(provider.inputs) } : undefined;
}

const NO_OPTIONS = { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };

const typeCheckUnsupported = () => {
  throw new Error("policies in this pack compare type tokens; isType/asType are not used");
};

/** Runs every policy over one stack's resources and returns each policy's violations. */
export async function evaluatePolicies(resources: readonly RecordedResource[], config: PackConfig, policies: readonly AnyPolicy[] = packPolicies): Promise<PolicyOutcome[]> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const stackResources: PolicyResource[] = resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: plain({ ...r.inputs, ...r.state }),
    opts: { ...NO_OPTIONS, parent: r.parent },
    provider: providerOf(r, byUrn),
    dependencies: [],
    propertyDependencies: {},
    isType: typeCheckUnsupported,
    asType: typeCheckUnsupported,
  }));
  const outcomes: PolicyOutcome[] = [];
  for (const policy of policies) {
    const enforcementLevel = enforcementLevelOf(policy, config);
    const violations: Violation[] = [];
    const outcome: PolicyOutcome = { policy: policy.name, enforcementLevel, violations };
    outcomes.push(outcome);
    if (enforcementLevel === "disabled") continue;
    const settings = policyConfig(policy, config);
    const common = {
      getConfig: <T extends object>() => settings as T,
      stackTags: new Map<string, string>(),
      notApplicable: (reason?: string): never => {
        throw new NotApplicable(reason ?? "not applicable");
      },
    };
    try {
      if ("validateStack" in policy) {
        await policy.validateStack({ ...common, resources: stackResources }, (message, urn) => violations.push({ message, urn }));
        continue;
      }
      const validations = [policy.validateResource ?? []].flat();
      for (const resource of resources) {
        const args: ResourceValidationArgs = {
          ...common,
          type: resource.type,
          name: resource.name,
          urn: resource.urn,
          props: plain(resource.inputs),
          opts: { ...NO_OPTIONS, parent: resource.parent },
          provider: providerOf(resource, byUrn),
          isType: typeCheckUnsupported,
          asType: typeCheckUnsupported,
        };
        for (const validate of validations) {
          try {
            await validate(args, (message) => violations.push({ message, urn: resource.urn }));
          } catch (error) {
            if (!(error instanceof NotApplicable)) throw error;
          }
        }
      }
    } catch (error) {
      if (!(error instanceof NotApplicable)) throw error;
      // Only stack policies get here: resource policies are not applicable per resource.
      outcome.notApplicable = error.reason;
    }
  }
  return outcomes;
}

/** Outcomes that block a deployment: mandatory policies with violations. */
export function blockingOutcomes(outcomes: readonly PolicyOutcome[]): PolicyOutcome[] {
  return outcomes.filter((o) => o.violations.length > 0 && (o.enforcementLevel === "mandatory" || o.enforcementLevel === "remediate"));
}
