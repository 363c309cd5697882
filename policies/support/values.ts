/**
 * Reading resource properties the way the policy engine hands them over: plain JSON, except
 * that objects the SDK stringifies (IAM documents, provider default tags) may arrive as JSON
 * text, and assets carry their contents as promises.
 *
 * The pack is loaded by the Pulumi CLI through ts-node as CommonJS, so modules under
 * policies/ import each other without a file extension and import nothing outside policies/.
 */

// Explicit: the CLI's ts-node type-checks without a tsconfig, and it stopped finding Node's
// types for this file once the pack's import order changed (tests/policies/pack-loading.test.ts).
/// <reference types="node" />
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One value or a list of them, as IAM and most AWS inputs allow. */
export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** JSON text becomes a value; anything else is returned as it is; unreadable text is undefined. */
export function parseJsonValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Resource-to-resource references use names, ids or ARNs depending on the argument. */
const REFERENCE_KEYS = ["id", "name", "arn", "bucket", "functionName", "qualifiedArn", "invokeArn", "guardrailArn"];

/**
 * Whether a reference found in one resource's properties (a name, id or ARN) points at
 * `target`. Lambda references may carry a qualifier (`arn...:function:name:live`).
 */
export function refersTo(reference: unknown, target: { name: string; props: Record<string, any> }): boolean {
  if (typeof reference !== "string" || reference === "") return false;
  for (const key of REFERENCE_KEYS) {
    const value = target.props[key];
    if (typeof value !== "string" || value === "") continue;
    if (reference === value || reference.startsWith(`${value}:`)) return true;
  }
  return false;
}

/** The text of an asset, whether its `text` is a string or a promise of one. */
export async function assetText(asset: unknown): Promise<string | undefined> {
  if (!isRecord(asset)) return undefined;
  const text = await asset.text;
  if (typeof text === "string") return text;
  const path = await asset.path;
  if (typeof path === "string") {
    return readFile(path, "utf8").catch(() => undefined);
  }
  return undefined;
}

/**
 * One file out of a code archive: an AssetArchive (`assets`, possibly a promise) or a
 * directory FileArchive (`path`).
 */
export async function archiveFileText(archive: unknown, file: string): Promise<string | undefined> {
  if (!isRecord(archive)) return undefined;
  const assets = await archive.assets;
  if (isRecord(assets)) return assetText(assets[file]);
  const path = await archive.path;
  if (typeof path === "string") {
    return readFile(join(path, file), "utf8").catch(() => undefined);
  }
  return undefined;
}

/**
 * Whether any file of a code archive can be read here. Under mocks the archive carries its
 * assets' text; the engine may hand a policy an archive whose contents it cannot read
 * (assets known only by hash, a zip file or a remote archive), and then no file is missing,
 * just unreadable.
 */
export async function archiveIsReadable(archive: unknown): Promise<boolean> {
  if (!isRecord(archive)) return false;
  const assets = await archive.assets;
  if (isRecord(assets)) {
    for (const asset of Object.values(assets)) {
      if ((await assetText(asset)) !== undefined) return true;
    }
    return false;
  }
  const path = await archive.path;
  if (typeof path !== "string") return false;
  return readdir(path).then(
    (files) => files.length > 0,
    () => false,
  );
}

/** "problem. To fix: remedy" — every violation message says what to change. */
export function withRemedy(problem: string, remedy: string): string {
  return `${problem}. To fix: ${remedy}`;
}
