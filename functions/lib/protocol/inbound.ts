/**
 * Protocol v1, inbound: what a client publishes to `/Inbound-Messages/<sub>`.
 * The payload becomes a typed request here, at the edge; everything after works on it.
 */
import * as z from "zod";

export const INBOUND_ACTIONS = ["chat", "usage", "models", "conversations", "history", "deleteConversation", "cancel"] as const;
export type InboundAction = (typeof INBOUND_ACTIONS)[number];

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a UUID");

/** Builds the inbound schema for a stack's `maxInputChars`. */
export function inboundRequestSchema(maxInputChars: number) {
  return z
    .object({
      action: z.enum(INBOUND_ACTIONS).default("chat"),
      requestId: uuid,
      conversationId: uuid.optional(),
      modelId: z.string().min(1).max(200).optional(),
      message: z.string().max(maxInputChars, `must be at most ${maxInputChars} characters`).optional(),
      maxTokens: z.number().int().positive().optional(),
      temperature: z.number().min(0).max(1).optional(),
      targetRequestId: uuid.optional(),
      /** Paging of `conversations` and `history`: the `nextCursor` of the previous page. */
      cursor: z.string().min(1).max(2048).optional(),
    })
    .strict()
    .superRefine((req, ctx) => {
      const needsConversation = req.action === "chat" || req.action === "history" || req.action === "deleteConversation";
      if (needsConversation && !req.conversationId) {
        ctx.addIssue({ code: "custom", path: ["conversationId"], message: `required for action "${req.action}"` });
      }
      if (req.action === "chat" && (req.message === undefined || req.message.trim() === "")) {
        ctx.addIssue({ code: "custom", path: ["message"], message: "required and must not be blank" });
      }
      if (req.action === "cancel" && !req.targetRequestId) {
        ctx.addIssue({ code: "custom", path: ["targetRequestId"], message: 'required for action "cancel"' });
      }
    });
}

export type InboundRequest = z.output<ReturnType<typeof inboundRequestSchema>>;
export type ChatRequest = InboundRequest & { action: "chat"; conversationId: string; message: string };
