/**
 * Sort keys of the conversations table (tables.ts CONVERSATIONS_TABLE). Every row lives in the
 * caller's own partition (`user_id` = the Cognito sub), so no key a client can name reaches
 * another user's rows.
 */
export const SUMMARY_PREFIX = "conv#";

export const summaryKey = (conversationId: string) => `${SUMMARY_PREFIX}${conversationId}`;

/** Prefix of one conversation's turn rows; ISO times sort chronologically after it. */
export const turnPrefix = (conversationId: string) => `turn#${conversationId}#`;

export const turnKey = (conversationId: string, at: string, requestId: string) => `${turnPrefix(conversationId)}${at}#${requestId}`;

/** The sparse index listing a user's conversations by `updated_at` (summary rows only). */
export const BY_UPDATED_INDEX = "by-updated";

/** Epoch seconds `days` from `nowMs`: the rows' `ttl`. */
export const expiryAfterDays = (nowMs: number, days: number) => Math.floor(nowMs / 1000) + days * 86_400;

/** TTL deletion is lazy (up to days late): a row past its `ttl` is treated as gone. */
export const isExpired = (ttl: unknown, nowMs: number) => typeof ttl === "number" && ttl <= Math.floor(nowMs / 1000);
