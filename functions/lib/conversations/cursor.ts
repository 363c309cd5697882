/**
 * Paging cursors for `conversations` and `history`: opaque to clients (base64url JSON), holding
 * only the sort-key position. The partition is always the caller's own, so a forged cursor can
 * at most move within the caller's own rows; one that does not fit the listing is refused.
 */
import { GatewayError } from "../protocol/errors.js";

interface Position {
  /** The table's sort key of the last row returned. */
  sk: string;
  /** The index sort key, for listings read from an index. */
  updatedAt?: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

/** The position in `cursor`, which must be a sort key starting with `prefix`. */
export function decodeCursor(cursor: string, prefix: string, withUpdatedAt = false): Position {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor();
  }
  const { sk, updatedAt } = (position ?? {}) as Partial<Position>;
  const fits =
    typeof sk === "string" &&
    sk.startsWith(prefix) &&
    sk.length <= 300 &&
    (withUpdatedAt ? typeof updatedAt === "string" && updatedAt.length <= 40 : updatedAt === undefined);
  if (!fits) throw invalidCursor();
  return { sk, ...(withUpdatedAt ? { updatedAt } : {}) };
}

const invalidCursor = () =>
  new GatewayError("invalid_request", "The cursor is not valid for this listing; start again without one.", {
    details: { fields: [{ field: "cursor", problem: "not a cursor of this listing" }] },
  });
