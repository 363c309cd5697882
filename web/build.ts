/**
 * Builds the chat UI with Vite when its output is missing or stale, for `npm start`
 * (local/web.ts) and the WebApp component (components/webApp.ts) alike, the way the Lambda
 * bundles are built at program time. "Stale" is decided by a hash of every source file under
 * web/ and the lockfile (the library versions), not by timestamps, which a checkout resets.
 * Vite is imported only when a build is needed, so an up-to-date start stays fast.
 */
import { createHash } from "node:crypto";
import { type Dirent, readdirSync } from "node:fs";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(WEB_DIR, "dist");
/** Written into the output; not served and not uploaded (dot files never are). */
export const BUILD_STAMP = ".source-hash";

const SKIP = new Set(["dist", "node_modules"]);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (SKIP.has(entry.name) || entry.name.startsWith("dist.")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else files.push(path);
  }
  return files.sort();
}

/** The hash of what the build depends on: web/ sources and the lockfile's versions. */
export async function webSourceHash(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await sourceFiles(WEB_DIR)) {
    hash.update(relative(WEB_DIR, file)).update("\0").update(await readFile(file)).update("\0");
  }
  hash.update(await readFile(join(WEB_DIR, "..", "package-lock.json")).catch(() => Buffer.alloc(0)));
  return hash.digest("hex");
}

export interface WebBuild {
  /** The directory holding index.html and assets/. */
  dir: string;
  /** Whether this call ran Vite (false: the existing output was current). */
  built: boolean;
}

/**
 * Makes sure `web/dist` matches the sources. Several processes may call it at once (test
 * workers, `npm start`): each builds into its own directory and renames it into place, so
 * a reader never sees half an output.
 */
export async function ensureWebBuild(options: { log?: (line: string) => void } = {}): Promise<WebBuild> {
  const hash = await webSourceHash();
  const current = async () => (await readFile(join(WEB_DIST, BUILD_STAMP), "utf8").catch(() => "")) === hash;
  if (await current()) return { dir: WEB_DIST, built: false };

  options.log?.("building the web UI (web/, Vite)");
  const outDir = `${WEB_DIST}.${process.pid}.${Date.now()}`;
  try {
    const { build } = await import("vite");
    await build({ configFile: join(WEB_DIR, "vite.config.ts"), logLevel: "warn", build: { outDir, emptyOutDir: true } });
    await writeFile(join(outDir, BUILD_STAMP), hash);
    if (await current()) return { dir: WEB_DIST, built: false }; // another process finished first
    await rm(WEB_DIST, { recursive: true, force: true });
    await rename(outDir, WEB_DIST).catch(async (error: NodeJS.ErrnoException) => {
      // Another process renamed its identical build in between: that one serves.
      if (!(await current())) throw error;
    });
    return { dir: WEB_DIST, built: true };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Every file under `dir`, as paths relative to it, dot files excluded (the build stamp). */
export function webFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort();
}

