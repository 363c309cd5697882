/**
 * Protocol v1, inbound: what a client publishes to `/Inbound-Messages/<sub>`.
 * The payload becomes a typed request here, at the edge; everything after works on it.
 */
import * as z from "zod/mini";
import { refuse } from "../schema-support.js";

export const INBOUND_ACTIONS = ["chat", "usage", "models", "conversations", "history", "deleteConversation", "cancel"] as const;
export type InboundAction = (typeof INBOUND_ACTIONS)[number];

const uuid = z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a UUID"));

/** Builds the inbound schema for a stack's `maxInputChars`. */
export function inboundRequestSchema(maxInputChars: number) {
  return z
    .strictObject({
      action: z._default(z.enum(INBOUND_ACTIONS), "chat"),
      requestId: uuid,
      conversationId: z.optional(uuid),
      modelId: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
      message: z.optional(z.string().check(z.maxLength(maxInputChars, `must be at most ${maxInputChars} characters`))),
      maxTokens: z.optional(z.number().check(z.int(), z.positive())),
      temperature: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
      targetRequestId: z.optional(uuid),
      /** Paging of `conversations` and `history`: the `nextCursor` of the previous page. */
      cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
    })
    .check(
      z.superRefine((req, ctx) => {
        const needsConversation = req.action === "chat" || req.action === "history" || req.action === "deleteConversation";
        if (needsConversation && !req.conversationId) {
          refuse(ctx, ["conversationId"], `required for action "${req.action}"`);
        }
        if (req.action === "chat" && (req.message === undefined || req.message.trim() === "")) {
          refuse(ctx, ["message"], "required and must not be blank");
        }
        if (req.action === "cancel" && !req.targetRequestId) {
          refuse(ctx, ["targetRequestId"], 'required for action "cancel"');
        }
      }),
    );
}

export type InboundRequest = z.output<ReturnType<typeof inboundRequestSchema>>;
export type ChatRequest = InboundRequest & { action: "chat"; conversationId: string; message: string };
