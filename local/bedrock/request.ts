/**
 * The Converse / ConverseStream request body as the fake reads it. Only what the fake uses is
 * typed; other fields (toolConfig, additionalModelRequestFields...) pass through untouched so
 * tests can still assert on them in the recorded requests.
 */
import { z } from "zod";

const contentBlock = z.looseObject({ text: z.string().optional() });

const message = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.array(contentBlock).min(1),
});

const converseRequestSchema = z.looseObject({
  messages: z.array(message).min(1),
  system: z.array(z.looseObject({ text: z.string().optional() })).optional(),
  inferenceConfig: z
    .looseObject({
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string()).optional(),
    })
    .optional(),
  guardrailConfig: z
    .looseObject({
      guardrailIdentifier: z.string(),
      guardrailVersion: z.string(),
      trace: z.string().optional(),
      streamProcessingMode: z.string().optional(),
    })
    .optional(),
});

export type ConverseRequestBody = z.output<typeof converseRequestSchema>;

export type ParsedRequest =
  | { ok: true; body: ConverseRequestBody; lastUserText: string; allTexts: string[] }
  | { ok: false; message: string };

/** Parses raw JSON text; on failure returns a message in the style of Bedrock's ValidationException. */
export function parseConverseRequest(raw: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, message: "Malformed input request: the body is not valid JSON." };
  }
  const parsed = converseRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length > 0 ? issue.path.join(".") : "body";
    return { ok: false, message: `1 validation error detected: Value at '${path}' failed to satisfy constraint: ${issue.message}` };
  }
  const body = parsed.data;
  const last = body.messages[body.messages.length - 1]!;
  if (last.role !== "user") {
    return { ok: false, message: "A conversation must end with a user message. Try again with a conversation that ends with a user message." };
  }
  if (body.messages[0]!.role !== "user") {
    return { ok: false, message: "A conversation must start with a user message. Try again with a conversation that starts with a user message." };
  }
  const textOf = (blocks: readonly { text?: string | undefined }[]) =>
    blocks.map((block) => block.text ?? "").join("");
  return {
    ok: true,
    body,
    lastUserText: textOf(last.content),
    allTexts: [...(body.system ?? []).map((block) => block.text ?? ""), ...body.messages.map((m) => textOf(m.content))],
  };
}
