/**
 * A small Pulumi engine and resource monitor over gRPC, speaking the protocol the Node SDK
 * speaks to the real CLI (the SDK's own generated stubs and @grpc/grpc-js): enough to run the
 * real program through `@pulumi/pulumi/cmd/run`, exactly as the Node language host starts it,
 * and record what it registers, invokes and logs.
 *
 * What it answers, like the engine would:
 * - SupportsFeature: every feature the SDK asks about except transforms and hooks (the
 *   program uses neither; saying yes would make the SDK start a callback server).
 * - RegisterResource: URNs built as the engine builds them (parent type chain). On `up`,
 *   outputs are the inputs plus what AWS computes (tools/awsMocks.ts: ARNs, ids, names);
 *   on preview (`--dry-run`) a new resource's outputs are its inputs only and its id is
 *   empty, so every computed value is unknown to the program, as in a real first preview.
 * - Invoke: the provider functions the program calls (tools/awsMocks.ts); anything else
 *   fails the invoke with a message naming the token.
 * - Engine Log / GetRootResource / SetRootResource; Monitor RegisterResourceOutputs,
 *   RegisterPackage and SignalAndWaitForShutdown.
 */
import * as grpc from "@grpc/grpc-js";
import { createRequire } from "node:module";
import { mockCall, mockResourceState } from "../../../tools/awsMocks.js";

const require = createRequire(import.meta.url);
const resourceGrpc = require("@pulumi/pulumi/proto/resource_grpc_pb.js");
const resourcePb = require("@pulumi/pulumi/proto/resource_pb.js");
const providerPb = require("@pulumi/pulumi/proto/provider_pb.js");
const engineGrpc = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
const enginePb = require("@pulumi/pulumi/proto/engine_pb.js");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb.js");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");

/** The SDK's wire markers (runtime/rpc.ts). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** Features a 3.x engine reports; transforms and hooks need a callback server the program never uses. */
const UNSUPPORTED_FEATURES = new Set(["transforms", "invokeTransforms", "resourceHooks", "errorHooks"]);

export const LOG_SEVERITY = ["debug", "info", "warning", "error"] as const;

export interface RegisteredResource {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  parent?: string;
  provider?: string;
  /** Inputs as the engine sees them: output values unwrapped, unknowns as UNKNOWN. */
  inputs: Record<string, any>;
  /** What the monitor answered. */
  outputs: Record<string, any>;
  id: string;
}

export interface EngineLog {
  severity: (typeof LOG_SEVERITY)[number];
  message: string;
  urn: string;
  /** Milliseconds since the engine started: when the message reached it. */
  atMs: number;
}

export interface FakeEngine {
  /** `127.0.0.1:<port>`, for both `--monitor` and `--engine` (one server hosts both services). */
  address: string;
  resources: RegisteredResource[];
  invokes: string[];
  logs: EngineLog[];
  /** RegisterResourceOutputs by URN (the stack's exports are under the root stack's URN). */
  registeredOutputs: Map<string, Record<string, any>>;
  rootResource(): string | undefined;
  stop(): Promise<void>;
}

/**
 * What the engine hands a provider: output values become their plain value (kept secret if
 * they were), or the unknown marker when they have none.
 */
export function engineValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(engineValue);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === OUTPUT_VALUE_SIG) {
    if (!("value" in record)) return UNKNOWN;
    const plain = engineValue(record.value);
    return record.secret ? { [SIG_KEY]: SECRET_SIG, value: plain } : plain;
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, engineValue(v)]));
}

/** Secrets unwrapped, for computing names and ARNs from inputs. */
function revealed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealed);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) return revealed(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealed(v)]));
}

type Callback = (err: grpc.ServiceError | null, response?: unknown) => void;
type Call = { request: any };

export async function startFakeEngine(options: { project: string; stack: string; dryRun: boolean; region: string }): Promise<FakeEngine> {
  const resources: RegisteredResource[] = [];
  const byUrn = new Map<string, RegisteredResource>();
  const qualifiedTypes = new Map<string, string>();
  const invokes: string[] = [];
  const logs: EngineLog[] = [];
  const registeredOutputs = new Map<string, Record<string, any>>();
  let root: string | undefined;
  const started = performance.now();

  const fail = (callback: Callback, code: grpc.status, message: string) =>
    callback(Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() }) as grpc.ServiceError);

  /**
   * `urn:pulumi:<stack>::<project>::<parent types$...$type>::<name>`, as the engine builds it:
   * the root stack's type is left out of its children's.
   */
  function urnOf(type: string, name: string, parent: string): string {
    const parentType = parent ? qualifiedTypes.get(parent) : undefined;
    const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
    const urn = `urn:pulumi:${options.stack}::${options.project}::${qualified}::${name}`;
    qualifiedTypes.set(urn, qualified);
    return urn;
  }

  const monitor = {
    supportsFeature({ request }: Call, callback: Callback) {
      const response = new resourcePb.SupportsFeatureResponse();
      response.setHassupport(!UNSUPPORTED_FEATURES.has(request.getId()));
      callback(null, response);
    },
    registerResource({ request }: Call, callback: Callback) {
      const type: string = request.getType();
      const name: string = request.getName();
      const custom: boolean = request.getCustom();
      const urn = urnOf(type, name, request.getParent());
      const inputs = engineValue(request.getObject()?.toJavaScript() ?? {}) as Record<string, any>;
      let id = "";
      let outputs: Record<string, any> = {};
      if (custom) {
        if (options.dryRun) {
          // A create in preview: the provider echoes the checked inputs; computed values are unknown.
          outputs = inputs;
          id = type.startsWith("pulumi:providers:") ? UNKNOWN : "";
        } else {
          const answer = mockResourceState({ type, name, inputs: revealed(inputs) as Record<string, any>, provider: request.getProvider(), custom }, options.region);
          outputs = { ...inputs, ...answer.state, ...keepSecrets(inputs) };
          id = answer.id;
        }
      }
      const record: RegisteredResource = {
        type,
        name,
        urn,
        custom,
        ...(request.getParent() ? { parent: request.getParent() } : {}),
        ...(request.getProvider() ? { provider: request.getProvider() } : {}),
        inputs,
        outputs,
        id,
      };
      resources.push(record);
      byUrn.set(urn, record);
      const response = new resourcePb.RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(id);
      response.setObject(Struct.fromJavaScript(outputs));
      callback(null, response);
    },
    registerResourceOutputs({ request }: Call, callback: Callback) {
      const urn: string = request.getUrn();
      if (!byUrn.has(urn)) return fail(callback, grpc.status.NOT_FOUND, `unknown resource ${urn}`);
      registeredOutputs.set(urn, engineValue(request.getOutputs()?.toJavaScript() ?? {}) as Record<string, any>);
      callback(null, new Empty());
    },
    invoke({ request }: Call, callback: Callback) {
      const token: string = request.getTok();
      invokes.push(token);
      const response = new providerPb.InvokeResponse();
      try {
        const result = mockCall({ token, inputs: request.getArgs()?.toJavaScript() ?? {}, provider: request.getProvider() });
        response.setReturn(Struct.fromJavaScript(result));
      } catch (err) {
        const failure = new providerPb.CheckFailure();
        failure.setReason((err as Error).message);
        response.setFailuresList([failure]);
      }
      callback(null, response);
    },
    readResource(_call: Call, callback: Callback) {
      fail(callback, grpc.status.UNIMPLEMENTED, "the fake engine reads no existing resources");
    },
    call(_call: Call, callback: Callback) {
      fail(callback, grpc.status.UNIMPLEMENTED, "the fake engine has no component providers");
    },
    registerPackage(_call: Call, callback: Callback) {
      const response = new resourcePb.RegisterPackageResponse();
      response.setRef("fake-package-ref");
      callback(null, response);
    },
    signalAndWaitForShutdown(_call: Call, callback: Callback) {
      callback(null, new Empty());
    },
  };

  const engine = {
    log({ request }: Call, callback: Callback) {
      logs.push({ severity: LOG_SEVERITY[request.getSeverity()] ?? "info", message: request.getMessage(), urn: request.getUrn(), atMs: performance.now() - started });
      callback(null, new Empty());
    },
    getRootResource(_call: Call, callback: Callback) {
      const response = new enginePb.GetRootResourceResponse();
      response.setUrn(root ?? "");
      callback(null, response);
    },
    setRootResource({ request }: Call, callback: Callback) {
      root = request.getUrn();
      callback(null, new enginePb.SetRootResourceResponse());
    },
  };

  const server = new grpc.Server();
  // Unimplemented methods answer UNIMPLEMENTED, as an older engine would.
  server.addService(resourceGrpc.ResourceMonitorService, monitor as unknown as grpc.UntypedServiceImplementation);
  server.addService(engineGrpc.EngineService, engine as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  return {
    address: `127.0.0.1:${port}`,
    resources,
    invokes,
    logs,
    registeredOutputs,
    rootResource: () => root,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // A client that never hangs up must not keep the test waiting.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}

/** Top-level secret inputs stay secret in the outputs, as the engine keeps them. */
function keepSecrets(inputs: Record<string, any>): Record<string, any> {
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v && typeof v === "object" && v[SIG_KEY] === SECRET_SIG));
}
