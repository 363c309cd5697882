import {
  type BedrockRuntimeClient,
  ConverseCommand,
  type ConverseStreamCommandInput,
  ConverseStreamCommand,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type BedrockServer, createLocalBedrockClient, estimateInputTokens, fakeAnswer, startBedrockServer } from "../../local/bedrock/index.js";
import { MAX_FAKE_TOKENS } from "../../local/bedrock/behaviour.js";

const MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0";

function chat(message: string, extra: Partial<ConverseStreamCommandInput> = {}): ConverseStreamCommandInput {
  return { modelId: MODEL, messages: [{ role: "user", content: [{ text: message }] }], ...extra };
}

interface Collected {
  events: ConverseStreamOutput[];
  text: string;
  deltas: number;
  error?: Error;
}

/** Reads the whole stream; an error thrown mid-iteration is returned with what came before. */
async function collect(client: BedrockRuntimeClient, input: ConverseStreamCommandInput, onDelta?: (n: number) => void, abortSignal?: AbortSignal): Promise<Collected> {
  const out: Collected = { events: [], text: "", deltas: 0 };
  const response = await client.send(new ConverseStreamCommand(input), { abortSignal });
  try {
    for await (const event of response.stream!) {
      out.events.push(event);
      if (event.contentBlockDelta) {
        out.text += event.contentBlockDelta.delta?.text ?? "";
        out.deltas++;
        onDelta?.(out.deltas);
      }
    }
  } catch (error) {
    out.error = error as Error;
  }
  return out;
}

async function sendError(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to fail");
}

let server: BedrockServer;
let http2Client: BedrockRuntimeClient;
let http1Client: BedrockRuntimeClient;

beforeAll(async () => {
  server = await startBedrockServer();
  // One attempt: each fault must surface as the error itself, not after the SDK's retries.
  http2Client = createLocalBedrockClient(server.url, { maxAttempts: 1 });
  http1Client = createLocalBedrockClient(server.url, { maxAttempts: 1, protocol: "http1" });
});
afterAll(async () => {
  http2Client.destroy();
  http1Client.destroy();
  await server.close();
});
beforeEach(() => server.reset());
afterEach(() => server.idle());

describe("streamed answers", () => {
  test.each(["http2", "http1"] as const)("streams a deterministic answer as real ConverseStream events over %s", async (protocol) => {
    const client = protocol === "http2" ? http2Client : http1Client;
    const got = await collect(client, chat("hello there", { system: [{ text: "Be brief." }] }));
    const expected = fakeAnswer(MODEL, "hello there", 24);
    const inputTokens = estimateInputTokens(["Be brief.", "hello there"]);
    expect(got.error).toBeUndefined();
    expect(got.text).toBe(expected);
    expect(got.deltas).toBe(24);
    expect(got.events[0]).toEqual({ messageStart: { role: "assistant" } });
    expect(got.events[1]).toEqual({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: expected.split(" ")[0] + " " } } });
    expect(got.events.slice(-3, -1)).toEqual([{ contentBlockStop: { contentBlockIndex: 0 } }, { messageStop: { stopReason: "end_turn" } }]);
    const metadata = got.events.at(-1)!.metadata!;
    expect(metadata.usage).toEqual({ inputTokens, outputTokens: 24, totalTokens: inputTokens + 24 });
    expect(metadata.metrics?.latencyMs).toBeTypeOf("number");
    expect(server.requests[0]).toMatchObject({ outcome: "end_turn", deltasSent: 24, usage: { inputTokens, outputTokens: 24 } });
  });

  test("gives the same answer to the same model and message, and another to a different model", async () => {
    const first = await collect(http2Client, chat("same question"));
    const again = await collect(http2Client, chat("same question"));
    const otherModel = await collect(http2Client, { ...chat("same question"), modelId: "amazon.nova-lite-v1:0" });
    expect(again.text).toBe(first.text);
    expect(otherModel.text).not.toBe(first.text);
  });

  test("stops with max_tokens after exactly maxTokens deltas when the answer is longer", async () => {
    server.configure({ tokens: 10 });
    const got = await collect(http2Client, chat("long one", { inferenceConfig: { maxTokens: 4 } }));
    expect(got.deltas).toBe(4);
    expect(got.text).toBe(fakeAnswer(MODEL, "long one", 10).split(" ").slice(0, 4).join(" ") + " ");
    expect(got.events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("max_tokens");
    expect(got.events.at(-1)!.metadata?.usage?.outputTokens).toBe(4);
  });

  test("answers with a configured fixed text or answer function instead of the generated one", async () => {
    server.configure({ answer: "Fixed reply here." });
    expect((await collect(http2Client, chat("anything"))).text).toBe("Fixed reply here.");
    server.configure({ answer: ({ lastUserText, modelId }) => `You said ${lastUserText} to ${modelId}` });
    expect((await collect(http2Client, chat("hi"))).text).toBe(`You said hi to ${MODEL}`);
  });

  test("answers the non-streaming Converse with the same text and usage", async () => {
    const response = await http1Client.send(new ConverseCommand(chat("plain call")));
    expect(response.output?.message?.content?.[0]?.text).toBe(fakeAnswer(MODEL, "plain call", 24));
    expect(response.stopReason).toBe("end_turn");
    expect(response.usage?.outputTokens).toBe(24);
    expect(server.requests[0]!.usage).toEqual({ inputTokens: response.usage!.inputTokens, outputTokens: 24 });
  });
});

describe("faults", () => {
  test.each([
    ["throttle", "ThrottlingException", 429],
    ["unavailable", "ServiceUnavailableException", 503],
    ["internal", "InternalServerException", 500],
    ["validation", "ValidationException", 400],
  ] as const)("fault %s makes the SDK throw %s (HTTP %d) before any event", async (fault, name, status) => {
    server.configure({ fault });
    const viaConfig = await sendError(collect(http2Client, chat("hi")));
    server.configure({ fault: null });
    const viaDirective = await sendError(collect(http1Client, chat(`hi [[fake:fault=${fault}]]`)));
    for (const error of [viaConfig, viaDirective]) {
      expect(error.name).toBe(name);
      expect(error.$metadata?.httpStatusCode).toBe(status);
    }
    expect(server.requests.map((r) => r.outcome)).toEqual(["rejected", "rejected"]);
  });

  test("a configured fault with faultTimes clears itself, so the SDK's own retry succeeds", async () => {
    server.configure({ fault: "throttle", faultTimes: 1 });
    const retrying = createLocalBedrockClient(server.url, { maxAttempts: 3 });
    const got = await collect(retrying, chat("retry me"));
    retrying.destroy();
    expect(got.text).toBe(fakeAnswer(MODEL, "retry me", 24));
    expect(server.requests.map((r) => r.outcome)).toEqual(["rejected", "end_turn"]);
  });

  test("fails mid-stream with a ModelStreamErrorException after exactly K deltas", async () => {
    const got = await collect(http2Client, chat("break [[fake:fault=midstream,after=5,tokens=20]]"));
    expect(got.deltas).toBe(5);
    expect(got.error?.name).toBe("ModelStreamErrorException");
    expect(got.events.some((e) => e.messageStop)).toBe(false);
    expect(server.requests[0]).toMatchObject({ outcome: "stream_error", deltasSent: 5 });
    expect(server.requests[0]!.usage).toBeUndefined();
  });

  test("a mid-stream throttling exception frame surfaces as ThrottlingException during iteration", async () => {
    server.configure({ fault: "midstream", faultAfterTokens: 2, streamError: "throttling" });
    const got = await collect(http1Client, chat("busy"));
    expect(got.deltas).toBe(2);
    expect(got.error?.name).toBe("ThrottlingException");
  });

  test("hang sends the headers, then nothing until the client aborts, and the server notices", async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/model/${encodeURIComponent(MODEL)}/converse-stream`, {
      method: "POST",
      headers: { authorization: "AWS4-HMAC-SHA256 test", "content-type": "application/json" },
      body: JSON.stringify(chat("wait [[fake:fault=hang]]")),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/vnd.amazon.eventstream");
    const read = response.body!.getReader().read();
    controller.abort();
    await expect(read).rejects.toThrow();
    await server.idle();
    expect(server.requests[0]).toMatchObject({ outcome: "client_aborted", deltasSent: 0 });
  });

  test("an SDK call to a hanging model ends with AbortError when its AbortController fires", async () => {
    const controller = new AbortController();
    const call = sendError(collect(http2Client, chat("wait [[fake:fault=hang]]"), undefined, controller.signal));
    await server.waitForRequests(1);
    controller.abort();
    expect((await call).name).toBe("AbortError");
    await server.idle();
    expect(server.requests[0]!.outcome).toBe("client_aborted");
  });

  test("stops writing when the client aborts in the middle of a paced stream", async () => {
    const controller = new AbortController();
    const got = await collect(http1Client, chat("slow [[fake:tokens=1000,rate=20]]"), (n) => n === 2 && controller.abort(), controller.signal);
    // Over HTTP/1 the SDK surfaces a body cut mid-read as Node's plain "aborted" error.
    expect(got.error).toBeInstanceOf(Error);
    await server.idle();
    const [request] = server.requests;
    expect(request!.outcome).toBe("client_aborted");
    expect(request!.deltasSent).toBeLessThan(1000);
  });
});

describe("directives", () => {
  test("set the answer length without changing its words, and are stripped from the seed text", async () => {
    const got = await collect(http2Client, chat("hello [[fake:tokens=5]]"));
    expect(got.deltas).toBe(5);
    expect(got.text).toBe(fakeAnswer(MODEL, "hello", 5));
  });

  test("pace the tokens at the requested rate after the requested first-token delay", async () => {
    const got = await collect(http2Client, chat("pace [[fake:tokens=5,rate=50,delay=40]]"));
    // The server schedules token i at delay + i/rate: 40 + 4 * 20 = 120 ms for the last one.
    expect(got.events.at(-1)!.metadata!.metrics!.latencyMs).toBeGreaterThanOrEqual(100);
    expect(got.deltas).toBe(5);
  });

  test("fault=none overrides a configured fault for that request only", async () => {
    server.configure({ fault: "unavailable" });
    expect((await collect(http2Client, chat("hi [[fake:fault=none]]"))).deltas).toBe(24);
    expect((await sendError(collect(http2Client, chat("hi")))).name).toBe("ServiceUnavailableException");
  });

  test("a malformed directive is refused with a ValidationException naming the problem", async () => {
    const error = await sendError(collect(http2Client, chat("hi [[fake:speed=9]]")));
    expect(error.name).toBe("ValidationException");
    expect(error.message).toBe('fake directive: unknown key "speed"');
  });
});

describe("answer length bounds", () => {
  test("a tokens directive above the documented ceiling is refused with the grammar's ValidationException", async () => {
    const error = await sendError(collect(http2Client, chat(`hi [[fake:tokens=${MAX_FAKE_TOKENS + 1}]]`)));
    expect(error.name).toBe("ValidationException");
    expect(error.message).toBe(`fake directive: tokens must be at most ${MAX_FAKE_TOKENS}, got ${MAX_FAKE_TOKENS + 1}`);
    const huge = await sendError(collect(http2Client, chat("hi [[fake:tokens=1000000000]]", { inferenceConfig: { maxTokens: 5 } })));
    expect(huge.name).toBe("ValidationException");
  });

  test("the ceiling itself is allowed and clamped to maxTokens, giving the same words as the full answer", async () => {
    const got = await collect(http2Client, chat(`ceiling [[fake:tokens=${MAX_FAKE_TOKENS}]]`, { inferenceConfig: { maxTokens: 3 } }));
    expect(got.deltas).toBe(3);
    expect(got.text).toBe(fakeAnswer(MODEL, "ceiling", 10).split(" ").slice(0, 3).join(" ") + " ");
  });

  test("a server configured above the ceiling fails at start", async () => {
    await expect(startBedrockServer({ tokens: MAX_FAKE_TOKENS + 1 })).rejects.toThrow(/at most/);
  });
});

describe("requests and access", () => {
  test("records the decoded model id, the parsed body and the signed headers of every request", async () => {
    const guardrailConfig = { guardrailIdentifier: "gr-1", guardrailVersion: "1", streamProcessingMode: "sync" as const };
    await collect(http2Client, {
      ...chat("record me"),
      system: [{ text: "You are the gateway." }],
      inferenceConfig: { maxTokens: 300, temperature: 0.2 },
      guardrailConfig,
    });
    const [request] = await server.waitForRequests(1);
    expect(request).toMatchObject({ operation: "converse-stream", modelId: MODEL });
    expect(request!.body).toEqual({
      messages: [{ role: "user", content: [{ text: "record me" }] }],
      system: [{ text: "You are the gateway." }],
      inferenceConfig: { maxTokens: 300, temperature: 0.2 },
      guardrailConfig,
    });
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\//);
    expect(request!.receivedAt).toBeTypeOf("number");
  });

  test("refuses a request without an Authorization header with 403", async () => {
    const response = await fetch(`${server.url}/model/${encodeURIComponent(MODEL)}/converse-stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chat("hi")),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toMatch(/^MissingAuthenticationTokenException/);
  });

  test("refuses a body that is not a valid Converse request with a ValidationException", async () => {
    const error = await sendError(collect(http2Client, { modelId: MODEL, messages: [{ role: "assistant", content: [{ text: "x" }] }] }));
    expect(error.name).toBe("ValidationException");
  });

  test("answers 404 ResourceNotFoundException for a model outside an explicit model list", async () => {
    const strict = await startBedrockServer({ models: [MODEL] });
    const client = createLocalBedrockClient(strict.url, { maxAttempts: 1 });
    try {
      expect((await collect(client, chat("hi"))).deltas).toBe(24);
      const error = await sendError(collect(client, { ...chat("hi"), modelId: "eu.amazon.nova-pro-v1:0" }));
      expect(error.name).toBe("ResourceNotFoundException");
      expect(error.$metadata?.httpStatusCode).toBe(404);
    } finally {
      client.destroy();
      await strict.close();
    }
  });
});

describe("close", () => {
  test("close() cuts in-flight streams, frees the port and leaves no timers or sockets behind", async () => {
    const countHandles = () => {
      const counts: Record<string, number> = {};
      for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
      return counts;
    };
    const before = countHandles();
    const local = await startBedrockServer();
    const client = createLocalBedrockClient(local.url, { maxAttempts: 1 });
    let firstDelta!: () => void;
    const streaming = new Promise<void>((resolve) => (firstDelta = resolve));
    const paced = collect(client, chat("slow [[fake:tokens=1000,rate=1]]"), () => firstDelta());
    // fetch resolves on the response headers, so the hang is certainly under way before close().
    const hung = await fetch(`${local.url}/model/${encodeURIComponent(MODEL)}/converse-stream`, {
      method: "POST",
      headers: { authorization: "AWS4-HMAC-SHA256 test", "content-type": "application/json" },
      body: JSON.stringify(chat("wait [[fake:fault=hang]]")),
    });
    // Handled at once: the read fails while close() is still running.
    const hungBody = hung.body!.getReader().read().then(() => "ended", (error: Error) => error);
    await streaming;

    await local.close();
    // Cut between frames, the SDK may end the iteration without an error: what shows the cut
    // is the missing messageStop (a gateway must treat that as a failed stream).
    const cut = await paced;
    expect(cut.deltas).toBeLessThan(1000);
    expect(cut.events.some((event) => event.messageStop)).toBe(false);
    expect(await hungBody).toBeInstanceOf(Error);
    expect(local.requests.map((r) => r.outcome)).toEqual(["server_closed", "server_closed"]);
    await expect(fetch(local.url)).rejects.toThrow();
    client.destroy();
    // Closed handles leave the list on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    const after = countHandles();
    for (const kind of ["Timeout", "TCPServerWrap", "TCPSocketWrap"]) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    }
  });
});
