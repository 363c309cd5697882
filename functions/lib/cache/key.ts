/**
 * Prepared-response keys: sha256 of (scope, model or "any", normalized prompt). The Pulumi
 * program, local mode, the operator command and the worker all key entries here, so an entry
 * written by one is found by the others.
 */
import { createHash } from "node:crypto";

/**
 * The key space of prepared responses. Entries are shared by every user by design (stack
 * config and operators write them, never a user's question); a new scope would start a
 * separate key space, e.g. per tier, without touching existing entries.
 */
export const PREPARED_SCOPE = "prepared";

/** Entries that answer on any model. */
export const ANY_MODEL = "any";

/** Lowercased, trimmed, whitespace collapsed, trailing `.`, `?` and `!` stripped. */
export function normalizePrompt(prompt: string): string {
  return prompt
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.?!]+$/, "")
    .trim();
}

export function cacheKey(prompt: string, modelId: string = ANY_MODEL, scope: string = PREPARED_SCOPE): string {
  // A separator that cannot occur in a scope or model id keeps the fields apart.
  return createHash("sha256").update(`${scope}\n${modelId}\n${normalizePrompt(prompt)}`, "utf8").digest("hex");
}
