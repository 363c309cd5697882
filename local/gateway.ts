/**
 * The whole gateway on one machine (DESIGN 8): DynamoDB Local, cognito-local, the
 * Bedrock-compatible model server (or real Bedrock), and the AppSync-Events-compatible server
 * whose namespaces run the unchanged Lambda handlers, all on loopback, configured from the
 * same stack file as `pulumi up`. `npm start` and the end-to-end tests both start it here.
 */
import { ResourceInUseException } from "@aws-sdk/client-dynamodb";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { GatewayConfig } from "../functions/lib/config/schema.js";
import { PreparedCache } from "../functions/lib/cache/store.js";
import { CACHE_TABLE, CONVERSATIONS_TABLE, IDEMPOTENCY_TABLE, TABLES, USAGE_TABLE, type TableSchema } from "../functions/lib/tables.js";
import { type BedrockServer, startBedrockServer } from "./bedrock/index.js";
import { type CognitoLocal, provisionUserPool, startCognitoLocal } from "./cognito.js";
import { PROJECT_ROOT, readStackConfig } from "./config.js";
import { createTable, LOCAL_CREDENTIALS, type LocalDynamoDb, startDynamoDbLocal } from "./dynamodb.js";
import { ENDPOINTS_FILE, type LocalEndpoints, removeEndpointsFile, writeEndpointsFile } from "./endpoints.js";
import {
  createCognitoVerifier,
  ensureLocalCertificate,
  type EventsServer,
  generateIamCredentials,
  gatewayNamespaces,
  type GatewayHandlers,
  startEventsServer,
} from "./events/index.js";
import { type LocalFirehose, startLocalFirehose } from "./firehose/index.js";
import { applyEnvironment, type LambdaEnvironment, lambdaVariables, loadGatewayHandlers } from "./lambda.js";
import { assertPortFree } from "./ports.js";
import { startWebServer, type WebServer } from "./web.js";
import { ensureWebBuild } from "../web/build.js";

export type ModelMode = "fake" | "bedrock";

export interface LocalGatewayPorts {
  /** The Events API (HTTPS + WSS). */
  events?: number;
  cognito?: number;
  dynamodb?: number;
  /** The Bedrock-compatible model server (fake mode only). */
  bedrock?: number;
  /** The Firehose-compatible analytics endpoint (when the stack has analytics on). */
  firehose?: number;
  /** The web UI (http://localhost:<port>). */
  web?: number;
}

export interface LocalGatewayOptions {
  /** Reads `Pulumi.<stack>.yaml`. @default "dev" */
  stack?: string;
  /** Where Pulumi.yaml and the stack files are. @default the repository root */
  projectDir?: string;
  /** "bedrock" calls real Bedrock with the default AWS credential chain. @default "fake" */
  model?: ModelMode;
  /** Keep users and tables across restarts (under `stateDir/persist`). @default false: fresh, in memory */
  persist?: boolean;
  /** Where endpoints.json, the TLS certificate and persisted state live. @default `<projectDir>/.local` */
  stateDir?: string;
  /** Serve the Events API over TLS, as Amplify needs. @default true */
  tls?: boolean;
  /** Serve the chat UI (building web/ first when its output is stale) and set `webUrl`. @default true */
  web?: boolean;
  /** Fixed ports; 0 or absent picks a free one. */
  ports?: LocalGatewayPorts;
  /** Progress lines while starting. */
  log?: (line: string) => void;
  /**
   * How many recent publishes and model requests the servers keep for inspection; a long
   * `npm start` session sets a bound so memory stays flat. @default all (tests read them)
   */
  maxRecorded?: number;
}

export interface LocalGateway {
  stack: string;
  region: string;
  model: ModelMode;
  config: GatewayConfig;
  endpoints: LocalEndpoints;
  /** Absolute path of the endpoints.json written. */
  endpointsFile: string;
  events: EventsServer;
  /** The model server (fake mode only). */
  bedrock?: BedrockServer;
  /** The chat UI's server (unless started with `web: false`). */
  web?: WebServer;
  /**
   * The Events API's IAM key of this start, which the worker signs its publishes with. It lives
   * in this process only (never in endpoints.json or on disk); benchmarks hand it to their
   * own child processes.
   */
  eventsKey: { accessKeyId: string; secretAccessKey: string };
  dynamodb: { endpoint: string; tables: Record<string, string> };
  /** The local Firehose writing Parquet under `<stateDir>/analytics` (absent with analytics off). */
  firehose?: LocalFirehose;
  /** The child processes it started; all gone once stop() resolves. */
  processes: { name: string; pid: number }[];
  /** Stops every server and child process; safe to call twice. */
  stop(): Promise<void>;
}

const PORT_FLAGS: Record<keyof LocalGatewayPorts, string> = {
  events: "--events-port",
  cognito: "--cognito-port",
  dynamodb: "--dynamodb-port",
  bedrock: "--bedrock-port",
  firehose: "--firehose-port",
  web: "--web-port",
};

/** The Events server's plain-HTTP listener that takes the worker's publishes. */
const WORKER_LISTENER = "worker";

/** How long stop() lets running workers finish before their databases go away. */
const WORKER_DRAIN_MS = 5000;

/**
 * Starts everything on loopback and writes `<stateDir>/endpoints.json`. Gateways may start one
 * after another in one process (each gets its own handler instances); two running at once in
 * one process is not supported, because the handlers' AWS SDK clients read their credentials
 * from process.env.
 */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const log = options.log ?? (() => undefined);
  const model = options.model ?? "fake";
  const { stack, region, config } = readStackConfig({ stack: options.stack, projectDir: options.projectDir });
  const stateDir = resolve(options.stateDir ?? join(options.projectDir ?? PROJECT_ROOT, ".local"));
  const ports = options.ports ?? {};
  // Check every fixed port before starting anything, so a clash leaves nothing half-started.
  for (const [name, port] of Object.entries(ports) as [keyof LocalGatewayPorts, number | undefined][]) {
    if (port) await assertPortFree(port, `${name}, set with ${PORT_FLAGS[name]}`);
  }
  if (model === "bedrock") await requireAwsCredentials();

  const running: Running = {};
  const stopAll = () => stopRunning(running);
  try {
    await mkdir(stateDir, { recursive: true });
    const certificate = options.tls === false ? undefined : await ensureLocalCertificate(join(stateDir, "tls"));
    if (certificate?.generated) log(`generated a new local CA: clients trust ${certificate.caCertPath}`);
    const persistDir = join(stateDir, "persist");
    if (options.persist) await mkdir(join(persistDir, "dynamodb"), { recursive: true });
    else running.temporaryDir = await mkdtemp(join(tmpdir(), "ai-gateway-cognito-"));

    // Building the UI (only when web/ changed) overlaps the child processes' start-up.
    const webBuild = options.web === false ? undefined : ensureWebBuild({ log });
    webBuild?.catch(() => undefined);
    log(`starting DynamoDB Local, cognito-local${model === "fake" ? " and the model server" : ""}`);
    const [dynamodb, cognito, bedrock] = await allStarted([
      startDynamoDbLocal({ port: ports.dynamodb || undefined, dataDir: options.persist ? join(persistDir, "dynamodb") : undefined, region }).then(
        (db) => (running.dynamodb = db),
      ),
      startCognitoLocal({ dataDir: running.temporaryDir ?? join(persistDir, "cognito"), port: ports.cognito || undefined, region }).then(
        (c) => (running.cognito = c),
      ),
      model === "fake"
        ? startBedrockServer({ port: ports.bedrock || 0, maxRecordedRequests: options.maxRecorded, guardrails: localGuardrails(config) }).then(
            (b) => (running.bedrock = b),
          )
        : Promise.resolve(undefined),
    ] as const);

    const tables = await createTables(dynamodb, stack);
    // Records stay on disk across starts, as S3 keeps them: `npm run analytics` reads them after a stop.
    const firehose = config.analytics.enabled
      ? (running.firehose = await startLocalFirehose({
          streamName: `ai-gateway-${stack}-turns`,
          dir: join(stateDir, "analytics"),
          port: ports.firehose || 0,
        }))
      : undefined;
    // What the program's TableItems are in AWS: the stack's prepared responses, exactly.
    await new PreparedCache({ dynamodb: dynamodb.client, tableName: tables[CACHE_TABLE.name]! }).syncConfigEntries(config);
    if (config.guardrail.enabled && model === "bedrock") log("guardrail: off with --model bedrock (the stack's guardrail exists only when deployed)");
    const pool = await provisionUserPool(cognito, { poolName: `ai-gateway-${stack}`, tiers: config.tiers });
    const configPath = join(stateDir, `gateway-config.${stack}.json`);
    await writeFile(configPath, JSON.stringify(config));

    // The web UI starts before the Events server, so its origin is known to whoever checks origins.
    const web = webBuild
      ? (running.web = await startWebServer({
          distDir: (await webBuild).dir,
          port: ports.web || 0,
          config: {
            region,
            appName: `AI Gateway (${stack}, local)`,
            cognito: {
              userPoolId: pool.userPoolId,
              userPoolClientId: pool.userPoolClientId,
              endpoint: cognito.endpoint,
              // cognito-local supports this flow only, and no MFA.
              authFlow: "USER_PASSWORD_AUTH",
              mfa: "OFF",
            },
            demoUsers: pool.users,
          },
        }))
      : undefined;

    // The server needs its handlers now, and the handlers need the server's URL at import.
    let resolveHandlers!: (handlers: GatewayHandlers) => void;
    const handlers = new Promise<GatewayHandlers>((r) => (resolveHandlers = r));
    const eventsKey = generateIamCredentials();
    log("starting the Events API");
    const events = await startEventsServer({
      region,
      port: ports.events || 0,
      maxRecordedPublishes: options.maxRecorded,
      ...(certificate
        ? { tls: { key: certificate.key, cert: certificate.cert }, plainListeners: [{ name: WORKER_LISTENER, port: 0, surface: "publisher" as const }] }
        : {}),
      // Browser pages only from the chat UI this gateway serves (its relay forwards their Origin).
      allowedOrigins: web ? [web.origin] : [],
      // The certificate names localhost; Amplify derives wss://<this host>/event/realtime.
      advertisedHost: "localhost",
      namespaces: gatewayNamespaces({
        onPublish: async (event) => (await handlers).onPublish!(event),
        onSubscribe: async (event) => (await handlers).onSubscribe!(event),
      }),
      auth: {
        verifyCognitoToken: createCognitoVerifier({ issuer: pool.issuer, clientId: pool.userPoolClientId }),
        iamCredentials: eventsKey,
      },
    });
    running.events = events;
    web?.relayTo({ port: events.port, ca: certificate ? await readFile(certificate.caCertPath, "utf8") : undefined });

    const lambdaEnv: LambdaEnvironment = {
      stack,
      region,
      configPath,
      // The worker runs in this process, whose fetch does not trust the local CA: it publishes over loopback HTTP.
      eventsHttpEndpoint: events.listeners[WORKER_LISTENER]?.httpEndpoint ?? events.httpEndpoint,
      publisherCredentials: eventsKey,
      idempotencyTable: tables[IDEMPOTENCY_TABLE.name]!,
      usageTable: tables[USAGE_TABLE.name]!,
      conversationsTable: tables[CONVERSATIONS_TABLE.name]!,
      cacheTable: tables[CACHE_TABLE.name]!,
      guardrail: model === "fake" && config.guardrail.enabled ? { id: LOCAL_GUARDRAIL_ID, version: "1" } : undefined,
      dynamodbEndpoint: dynamodb.endpoint,
      bedrockEndpoint: bedrock?.url,
      analytics: firehose ? { streamName: firehose.streamName, firehoseEndpoint: firehose.endpoint } : undefined,
      defaultCredentials: model === "fake" ? LOCAL_CREDENTIALS : undefined,
      workerTimeoutSeconds: config.worker.timeoutSeconds,
    };
    running.restoreEnvironment = applyEnvironment(lambdaVariables(lambdaEnv));
    resolveHandlers(await loadGatewayHandlers(lambdaEnv, {
        workerConcurrency: config.worker.reservedConcurrency,
        maximumEventAgeSeconds: config.worker.maximumEventAgeSeconds,
      }));

    const endpoints: LocalEndpoints = {
      region,
      stack,
      events: {
        httpEndpoint: events.httpEndpoint,
        realtimeEndpoint: events.realtimeEndpoint,
        ...(certificate ? { caCertPath: certificate.caCertPath } : {}),
      },
      cognito: { endpoint: cognito.endpoint, userPoolId: pool.userPoolId, userPoolClientId: pool.userPoolClientId },
      users: pool.users,
      webUrl: web?.url ?? null,
      dynamodb: { endpoint: dynamodb.endpoint, tables },
    };
    const endpointsFile = join(stateDir, ENDPOINTS_FILE);
    const written = await writeEndpointsFile(endpointsFile, endpoints);
    running.removeEndpoints = () => removeEndpointsFile(endpointsFile, written);

    let stopping: Promise<void> | undefined;
    return {
      stack,
      region,
      model,
      config,
      endpoints,
      endpointsFile,
      events,
      bedrock,
      web,
      eventsKey,
      dynamodb: { endpoint: dynamodb.endpoint, tables },
      firehose,
      processes: [
        { name: "DynamoDB Local", pid: dynamodb.pid },
        { name: "cognito-local", pid: cognito.pid },
      ],
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** What has started so far, for stopping it in the right order. */
interface Running {
  dynamodb?: LocalDynamoDb;
  cognito?: CognitoLocal;
  bedrock?: BedrockServer;
  events?: EventsServer;
  firehose?: LocalFirehose;
  web?: WebServer;
  temporaryDir?: string;
  restoreEnvironment?: () => void;
  removeEndpoints?: () => Promise<void>;
}

/** Waits for every start to settle, then fails if one failed: the others have recorded themselves in Running, so the caller's cleanup stops them. */
async function allStarted<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * First no new requests; then the model server cuts its streams so running workers wind up;
 * then a bounded wait for them (Lambda would stop a hung one at its timeout; here it must
 * not hold Ctrl-C); only then the databases and the child processes.
 */
async function stopRunning(running: Running): Promise<void> {
  const quietly = (step: Promise<unknown> | undefined) => step?.catch(() => undefined);
  await quietly(running.removeEndpoints?.());
  await quietly(running.web?.close());
  await quietly(running.events?.close());
  await quietly(running.bedrock?.close());
  if (running.events) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running.events.idle(), new Promise<void>((r) => (timer = setTimeout(r, WORKER_DRAIN_MS)))]);
    clearTimeout(timer);
  }
  running.restoreEnvironment?.();
  await Promise.all([quietly(running.cognito?.stop()), quietly(running.dynamodb?.stop()), quietly(running.firehose?.close())]);
  if (running.temporaryDir) await rm(running.temporaryDir, { recursive: true, force: true });
}

/** Tables named `ai-gateway-<stack>-<logical name>`; a persisted one is reused. */
async function createTables(dynamodb: LocalDynamoDb, stack: string): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const schema of TABLES as readonly TableSchema[]) {
    const name = `ai-gateway-${stack}-${schema.name}`;
    try {
      await createTable(dynamodb.client, schema, name);
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    names[schema.name] = name;
  }
  return names;
}

/** The identifier of the stack's guardrail in local mode (Bedrock's pattern: lowercase letters and digits). */
const LOCAL_GUARDRAIL_ID = "localguardrail";

/** The stack's guardrail as the model server applies it: denied topics by name, the stack's blocked message. */
function localGuardrails(config: GatewayConfig) {
  if (!config.guardrail.enabled) return [];
  return [
    {
      id: LOCAL_GUARDRAIL_ID,
      versions: ["1"],
      deniedTopics: config.guardrail.deniedTopics.map((t) => t.name),
      blockedMessage: config.guardrail.blockedMessage,
    },
  ];
}

/** Real Bedrock needs the developer's AWS credentials; say so before anything starts. */
async function requireAwsCredentials(): Promise<void> {
  try {
    await defaultProvider()();
  } catch {
    throw new Error(
      "--model bedrock calls real Bedrock with your AWS credentials, and none were found " +
        "(environment, shared config/SSO profile, or instance role). Configure them, or run with --model fake.",
    );
  }
}
