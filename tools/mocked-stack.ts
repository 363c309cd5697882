/**
 * Runs the real Pulumi program (index.ts) against Pulumi's mocks, with a stack's real config
 * file, and returns every resource it registered and the stack outputs. Infra tests and the
 * policy pack's runner use it; no Pulumi CLI, engine or AWS account is involved.
 *
 * Pulumi's runtime state (settings, config, the resource monitor) is global to the process,
 * and index.ts runs once when imported: call runMockedStack at most once per process. Tests
 * use one stack per test file (vitest runs files in separate forks); scripts spawn one child
 * process per stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { asPulumiConfig, projectDefaultValues, stackFileValues } from "../local/stack-file.js";
import { mockCall, mockResourceState } from "./awsMocks.js";

export const PROJECT_NAME = "ai-gateway";
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface MockedResource {
  /** e.g. `aws:lambda/function:Function`, `ai-gateway:index:EventApi`, `pulumi:providers:aws`. */
  type: string;
  /** The logical name. */
  name: string;
  urn: string;
  /** As the program passed them (assets and archives as Pulumi asset objects). */
  inputs: Record<string, any>;
  /** What the mock answered: the inputs plus computed ids, ARNs and names. */
  state: Record<string, any>;
  /** URN of the parent resource, if any. */
  parent?: string;
  /** Provider reference (`<provider urn>::<provider id>`) for custom resources. */
  provider?: string;
  /** URNs of the resources it depends on, through `dependsOn` or through its inputs. */
  dependencies?: string[];
}

export interface MockedStack {
  resources: MockedResource[];
  outputs: Record<string, unknown>;
}

export interface RunMockedStackOptions {
  stack: "dev" | "prod";
  /**
   * Config values replacing the file's, by key (`ai-gateway:waf`, or just `waf` for the
   * project's namespace). Objects are JSON-encoded as Pulumi does; `undefined` or `null` removes
   * a key.
   */
  configOverrides?: Record<string, unknown>;
  /** Another stack file to load instead of Pulumi.<stack>.yaml. */
  configFile?: string;
}

/** The program failed (bad config, for one); `resources` is what registered before it did. */
export class MockedStackError extends Error {
  constructor(
    message: string,
    readonly resources: MockedResource[],
  ) {
    super(message);
    this.name = "MockedStackError";
  }
}

let alreadyRun = false;

export async function runMockedStack(options: RunMockedStackOptions): Promise<MockedStack> {
  if (alreadyRun) throw new Error("runMockedStack may run once per process: Pulumi's runtime state is global");
  alreadyRun = true;

  const { config, secretKeys } = stackPulumiConfig(options);
  const region = config["aws:region"] ?? "us-east-1";
  const recorder = new RegistrationRecorder();

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => recorder.record(args, mockResourceState(args, region)),
      call: (args) => mockCall(args),
    },
    PROJECT_NAME,
    options.stack,
    false,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);
  recorder.attach(pulumi.runtime.getMonitor());

  // A failed registration (a bundle that does not build, say) surfaces only as an unhandled
  // rejection, and the outputs depending on it never resolve: fail the run instead of hanging.
  let onUnhandled: ((reason: unknown) => void) | undefined;
  const registrationFailure = new Promise<never>((_, reject) => {
    onUnhandled = (reason) => reject(new MockedStackError(`a resource failed to register: ${messageOf(reason)}`, recorder.resources));
    process.on("unhandledRejection", onUnhandled);
  });
  try {
    return await Promise.race([runProgram(recorder), registrationFailure]);
  } finally {
    process.off("unhandledRejection", onUnhandled!);
  }
}

async function runProgram(recorder: RegistrationRecorder): Promise<MockedStack> {
  let program: Record<string, unknown>;
  try {
    program = await import(pathToFileURL(resolve(PROJECT_ROOT, "index.ts")).href);
  } catch (err) {
    await pulumi.runtime.disconnect();
    throw new MockedStackError(messageOf(err), recorder.resources);
  }
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await resolveOutput(value);
  // Waits until every registration (and its mock answer) has completed.
  await pulumi.runtime.disconnect();
  return { resources: recorder.resources, outputs };
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

function resolveOutput(value: unknown): Promise<unknown> {
  return new Promise((resolvePromise) => (pulumi.output(value) as pulumi.Output<unknown>).apply((v) => resolvePromise(v)));
}

/**
 * The config the CLI would hand the program for this stack: Pulumi.yaml's project defaults,
 * then `Pulumi.<stack>.yaml` (or `configFile`), then the overrides (`null` removes a key).
 * Keys are full (`ai-gateway:models`), values strings (structured ones JSON), secrets a
 * placeholder. The language-host test passes the same values through PULUMI_CONFIG.
 */
export function stackPulumiConfig(options: RunMockedStackOptions): { config: Record<string, string>; secretKeys: string[] } {
  const file = options.configFile ?? resolve(PROJECT_ROOT, `Pulumi.${options.stack}.yaml`);
  const overrides = options.configOverrides ?? {};
  const values: Record<string, unknown> = { ...projectDefaultValues(PROJECT_ROOT), ...stackFileValues(file) };
  for (const [key, value] of Object.entries(overrides)) {
    const fullKey = key.includes(":") ? key : `${PROJECT_NAME}:${key}`;
    if (value === undefined || value === null) delete values[fullKey];
    else values[fullKey] = value;
  }
  return asPulumiConfig(values, "mock-secret-value");
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
}
type Callback = (err: unknown, response?: { getUrn(): string }) => void;

/**
 * Pulumi's mock hook sees neither a resource's parent, its dependencies nor its URN. The monitor's
 * registerResource does, and it calls the mock synchronously, so a thin wrapper hands both over.
 */
class RegistrationRecorder {
  readonly resources: MockedResource[] = [];
  private pending?: { type: string; name: string; parent?: string; dependencies: string[]; record?: MockedResource };

  attach(monitor: unknown) {
    const target = monitor as { registerResource(req: RegisterRequest, cb: Callback): unknown };
    const original = target.registerResource.bind(target);
    target.registerResource = (req, callback) => {
      const meta: NonNullable<RegistrationRecorder["pending"]> = {
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent() || undefined,
        dependencies: req.getDependenciesList(),
      };
      this.pending = meta;
      try {
        return original(req, (err, response) => {
          if (!err && response && meta.record) meta.record.urn = response.getUrn();
          callback(err, response);
        });
      } finally {
        this.pending = undefined;
      }
    };
  }

  record(args: pulumi.runtime.MockResourceArgs, answer: { id: string; state: Record<string, unknown> }) {
    const meta = this.pending && this.pending.type === args.type && this.pending.name === args.name ? this.pending : undefined;
    const record: MockedResource = {
      type: args.type,
      name: args.name,
      urn: "",
      inputs: args.inputs,
      state: answer.state,
      ...(meta?.parent ? { parent: meta.parent } : {}),
      ...(args.provider ? { provider: args.provider } : {}),
      ...(meta?.dependencies.length ? { dependencies: meta.dependencies } : {}),
    };
    if (meta) meta.record = record;
    this.resources.push(record);
    // Components carry no provider state; their id stays empty as in a real deployment.
    return args.custom === false ? { id: undefined, state: {} } : answer;
  }
}
