/**
 * What the functions' schemas (the stack config, inbound payloads), written with zod/mini,
 * share: zod's English messages and the one way they add a problem of their own.
 *
 * zod/mini ships without messages, and a problem named to an operator or a client must read as
 * in zod's full API. The locale comes from its own file, which keeps every other locale out of
 * the bundles; importing this module sets it. (Re-exporting zod's namespace from here instead
 * would defeat esbuild's tree-shaking of it.)
 */
import { config, type core } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

/** Adds a problem at `path` below the value being refined: its message is all a reader sees. */
export function refuse(ctx: core.$RefinementCtx<unknown>, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: "custom", path, message });
}
