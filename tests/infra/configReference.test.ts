/**
 * The README's configuration reference against the schema: every key listed, nothing listed
 * that the schema lacks, every default as the schema applies it.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configKeys } from "../../tools/configKeys.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const section = readme.split(/^## /m).find((s) => s.startsWith("Configuration reference"));

/** `| \`key\` | default | meaning |` rows of the reference table. */
function referenceRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of (section ?? "").split("\n")) {
    const match = /^\| `([^`]+)` \| (.+?) \| .+\|$/.exec(line);
    if (match) rows.set(match[1]!, match[2]!.trim());
  }
  return rows;
}

const expectedDefault = (key: ReturnType<typeof configKeys>[number]) =>
  key.required ? "required" : key.default === undefined ? "—" : `\`${JSON.stringify(key.default)}\``;

describe("README configuration reference", () => {
  it("lists every key of the stack-config schema with the default the schema applies", () => {
    const rows = referenceRows();
    const keys = configKeys();
    expect(keys.length).toBeGreaterThan(50);
    for (const key of keys) {
      expect(rows.has(key.path), `${key.path} is missing from the README`).toBe(true);
      expect(rows.get(key.path), key.path).toBe(expectedDefault(key));
    }
  });

  it("lists no key the schema does not have", () => {
    const known = new Set(configKeys().map((k) => k.path));
    const stale = [...referenceRows().keys()].filter((path) => !known.has(path));
    expect(stale).toEqual([]);
  });
});
