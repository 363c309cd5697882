/**
 * A Bedrock-Runtime-compatible model server for local mode and tests. It serves
 * `POST /model/{modelId}/converse-stream` (and `/converse`) on loopback with the real wire
 * format, so the unmodified `@aws-sdk/client-bedrock-runtime` talks to it through
 * `endpoint: server.url`, over HTTP/2 (the SDK default) or HTTP/1.1.
 *
 * Answers are deterministic (answer.ts); length, pacing and faults are set at start, changed by
 * `configure`, or overridden per request by `[[fake:...]]` directives (grammar: behaviour.ts).
 * SigV4 is not verified, but an Authorization header must be present, as on AWS.
 */
import { fakeAnswer, estimateInputTokens, splitTokens } from "./answer.js";
import { type AnswerContext, checkBehaviour, DEFAULT_BEHAVIOUR, type FakeBehaviour, parseDirectives } from "./behaviour.js";
import { checkGuardrail, type FakeGuardrail } from "./guardrail.js";
import { listenDualProtocol, type ModelRequest } from "./listener.js";
import { type ConverseRequestBody, parseConverseRequest } from "./request.js";
import { type AbortReason, converseAnswer, type RequestOutcome, type ResponsePlan, streamAnswer } from "./respond.js";
import { type HttpErrorName, type ModelResponse, newRequestId, sendHttpError } from "./wire.js";

/** Runtime-changeable settings (`configure`). */
export interface BedrockServerConfig extends Partial<FakeBehaviour> {
  /**
   * How many requests the configured `fault` applies to before it clears itself; null = every
   * request. Lets a test prove that a retry succeeds. @default null
   */
  faultTimes?: number | null;
}

export interface BedrockServerOptions extends BedrockServerConfig {
  /** @default "127.0.0.1" */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Keep only this many recent requests in `requests` (a long `npm start` session). @default all */
  maxRecordedRequests?: number;
  /** Model ids the server knows; others get 404 ResourceNotFoundException. @default any id */
  models?: readonly string[];
  /** Guardrails requests may name (guardrail.ts). @default none: any identifier, directive-driven */
  guardrails?: readonly FakeGuardrail[];
}

export interface RecordedRequest {
  operation: "converse-stream" | "converse";
  /** Decoded from the path, e.g. `us.anthropic.claude-3-5-haiku-20241022-v1:0`. */
  modelId: string;
  /** The parsed body, or null when it was not a valid Converse request. */
  body: ConverseRequestBody | null;
  rawBody: string;
  /** Lower-cased request headers (HTTP/2 pseudo-headers dropped). */
  headers: Record<string, string>;
  /** Epoch milliseconds. */
  receivedAt: number;
  outcome: RequestOutcome;
  deltasSent: number;
  /**
   * The token usage the response reported to the client (ConverseStream's metadata event,
   * Converse's body): absent when the response ended without one (an error, a cut stream).
   */
  usage?: { inputTokens: number; outputTokens: number };
}

export interface BedrockServer {
  /** `http://127.0.0.1:<port>`: pass as the SDK client's `endpoint`. */
  url: string;
  port: number;
  /** Every model request received, oldest first (live array). */
  requests: RecordedRequest[];
  /** Changes behaviour for the requests that follow; `fault: null` clears a fault. */
  configure(config: BedrockServerConfig): void;
  /** Restores the start-up behaviour and forgets recorded requests. */
  reset(): void;
  /** Resolves once at least `count` requests have been recorded. */
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  /** Resolves once no response is in progress. */
  idle(): Promise<void>;
  /** Cuts in-flight responses, closes every connection, and frees the port. */
  close(): Promise<void>;
}

const ROUTE = /^\/model\/([^/]+)\/(converse-stream|converse)$/;
const MAX_BODY_BYTES = 20 * 1024 * 1024;

function headersOf(req: ModelRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith(":") && value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function readBody(req: ModelRequest): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `{ tokens: undefined }` means "not given", not "unset the default". */
function withoutUndefined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * The answer text. A generated one is clamped to the request's `maxTokens` before it is built
 * (one word more, so the stream still ends with `max_tokens`; the words are a seeded sequence,
 * so the prefix is the same as the full answer's).
 */
function chooseAnswer(behaviour: FakeBehaviour, tokensFromDirective: boolean, context: AnswerContext, maxTokens: number | undefined): string {
  if (!tokensFromDirective && typeof behaviour.answer === "string") return behaviour.answer;
  if (!tokensFromDirective && typeof behaviour.answer === "function") return behaviour.answer(context);
  const length = maxTokens === undefined ? behaviour.tokens : Math.min(behaviour.tokens, maxTokens + 1);
  return fakeAnswer(context.modelId, context.lastUserText, length);
}

export async function startBedrockServer(options: BedrockServerOptions = {}): Promise<BedrockServer> {
  const { host = "127.0.0.1", port = 0, models, guardrails = [], faultTimes = null, maxRecordedRequests = Infinity, ...initial } = options;
  const startBehaviour: FakeBehaviour = { ...DEFAULT_BEHAVIOUR, ...withoutUndefined(initial) };
  checkBehaviour(startBehaviour);
  let behaviour = startBehaviour;
  let faultsLeft: number | null = faultTimes;
  const knownModels = models ? new Set(models) : null;
  const requests: RecordedRequest[] = [];
  const inFlight = new Set<AbortController>();
  let countWaiters: { count: number; resolve: (r: RecordedRequest[]) => void; reject: (e: Error) => void }[] = [];
  let idleWaiters: (() => void)[] = [];
  let closed = false;

  function record(entry: RecordedRequest): void {
    requests.push(entry);
    const excess = requests.length - maxRecordedRequests;
    if (excess > 0) requests.splice(0, excess);
    const ready = countWaiters.filter((w) => requests.length >= w.count);
    countWaiters = countWaiters.filter((w) => requests.length < w.count);
    for (const waiter of ready) waiter.resolve(requests);
  }

  /** The configured fault for this request, consuming one of `faultTimes`. */
  function takeConfiguredFault(): FakeBehaviour["fault"] {
    if (behaviour.fault === null || faultsLeft === 0) return null;
    if (faultsLeft !== null) faultsLeft--;
    return behaviour.fault;
  }

  async function answer(req: ModelRequest, res: ModelResponse, entry: RecordedRequest, requestId: string, signal: AbortSignal): Promise<RequestOutcome> {
    const reject = (name: HttpErrorName, message?: string): RequestOutcome => {
      sendHttpError(res, name, requestId, message);
      return "rejected";
    };
    const raw = await readBody(req);
    if (raw === null) return reject("ValidationException", "Input is too long for the requested model.");
    entry.rawBody = raw;
    if (!entry.headers.authorization) return reject("MissingAuthenticationTokenException");
    if (knownModels && !knownModels.has(entry.modelId)) return reject("ResourceNotFoundException");
    const parsed = parseConverseRequest(raw);
    if (!parsed.ok) return reject("ValidationException", parsed.message);
    entry.body = parsed.body;
    const directives = parseDirectives(parsed.lastUserText);
    if (!directives.ok) return reject("ValidationException", directives.message);

    const { fault: directiveFault, guardrailIntervenes, ...directiveRest } = directives.overrides;
    const fault = "fault" in directives.overrides ? (directiveFault ?? null) : takeConfiguredFault();
    const effective: FakeBehaviour = { ...behaviour, ...directiveRest, fault };
    if (fault === "throttle") return reject("ThrottlingException");
    if (fault === "unavailable") return reject("ServiceUnavailableException");
    if (fault === "internal") return reject("InternalServerException");
    if (fault === "validation") return reject("ValidationException");
    if (fault === "access_denied") return reject("AccessDeniedException");

    const guardrail = checkGuardrail(parsed.body, directives.cleanText, guardrailIntervenes === true, guardrails);
    if (guardrail.kind === "invalid") return reject("ValidationException", guardrail.message);
    if (guardrail.kind === "intervene") {
      // The guardrail blocked the input: the model never ran, so no output tokens.
      const intervention: ResponsePlan = {
        tokens: splitTokens(guardrail.message),
        maxTokens: undefined,
        inputTokens: estimateInputTokens(parsed.allTexts),
        behaviour: { ...effective, fault: null, rate: 0, firstTokenDelayMs: 0 },
        receivedAt: entry.receivedAt,
        requestId,
        stop: { stopReason: "guardrail_intervened", outputTokens: 0, trace: guardrail.trace },
      };
      return (entry.operation === "converse-stream" ? streamAnswer : converseAnswer)(res, intervention, signal, entry);
    }

    let text: string;
    try {
      text = chooseAnswer(effective, directives.overrides.tokens !== undefined, {
        modelId: entry.modelId,
        lastUserText: directives.cleanText,
        body: parsed.body,
      }, parsed.body.inferenceConfig?.maxTokens);
    } catch {
      // A throwing answer override is a test bug; answer as Bedrock would to an internal fault.
      return reject("InternalServerException");
    }
    const plan: ResponsePlan = {
      tokens: splitTokens(text),
      maxTokens: parsed.body.inferenceConfig?.maxTokens,
      inputTokens: estimateInputTokens(parsed.allTexts),
      behaviour: effective,
      receivedAt: entry.receivedAt,
      requestId,
    };
    const respond = entry.operation === "converse-stream" ? streamAnswer : converseAnswer;
    return respond(res, plan, signal, entry);
  }

  function handle(req: ModelRequest, res: ModelResponse): void {
    const requestId = newRequestId();
    const route = req.method === "POST" ? ROUTE.exec((req.url ?? "").split("?")[0]!) : null;
    let modelId: string | undefined;
    try {
      modelId = route ? decodeURIComponent(route[1]!) : undefined;
    } catch {
      modelId = undefined;
    }
    if (!route || modelId === undefined) {
      sendHttpError(res, "UnknownOperationException", requestId);
      return;
    }
    const entry: RecordedRequest = {
      operation: route[2] as RecordedRequest["operation"],
      modelId,
      body: null,
      rawBody: "",
      headers: headersOf(req),
      receivedAt: Date.now(),
      outcome: "pending",
      deltasSent: 0,
    };
    record(entry);
    const controller = new AbortController();
    inFlight.add(controller);
    // res 'close' before the answer is written means the client left (req 'close' fires on
    // every completed body since Node 16, so it cannot tell).
    res.once("close", () => controller.abort("client" satisfies AbortReason));
    answer(req, res, entry, requestId, controller.signal)
      .catch((): RequestOutcome => (controller.signal.aborted ? "client_aborted" : "rejected"))
      .then((outcome) => {
        entry.outcome = outcome;
        inFlight.delete(controller);
        if (inFlight.size === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
  }

  function idle(): Promise<void> {
    if (inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  const listener = await listenDualProtocol(handle, host, port);
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${listener.port}`;

  return {
    url,
    port: listener.port,
    requests,
    configure(config) {
      const { faultTimes: times, ...rest } = config;
      const next: FakeBehaviour = { ...behaviour, ...withoutUndefined(rest) };
      checkBehaviour(next);
      behaviour = next;
      if (times !== undefined || "fault" in rest) faultsLeft = times ?? null;
    },
    reset() {
      behaviour = startBehaviour;
      faultsLeft = faultTimes;
      requests.length = 0;
    },
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve(requests);
      if (closed) return Promise.reject(new Error("bedrock fake: server closed"));
      return new Promise((resolve, reject) => countWaiters.push({ count, resolve, reject }));
    },
    idle,
    async close() {
      if (closed) return;
      closed = true;
      for (const controller of inFlight) controller.abort("server" satisfies AbortReason);
      for (const waiter of countWaiters) waiter.reject(new Error("bedrock fake: server closed"));
      countWaiters = [];
      await listener.close();
      // Aborted responses settle on their own; waiting makes "nothing left running" true on return.
      await idle();
    },
  };
}
