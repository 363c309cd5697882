/**
 * `npm start`: the whole gateway on this machine (DESIGN 8). Starts it, prints where
 * everything is, and on Ctrl-C or SIGTERM stops every server and child process.
 */
import { ConfigError } from "../functions/lib/config/parse.js";
import { formatBanner } from "./banner.js";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "./gateway.js";
import { parseStartArgs, USAGE } from "./start-options.js";

async function main(): Promise<void> {
  let options: LocalGatewayOptions | "help";
  try {
    options = parseStartArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === "help") return console.log(USAGE);

  let gateway: LocalGateway | undefined;
  let stopRequested = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopRequested) {
      // A second Ctrl-C: leave now; the children are killed by their exit hooks.
      process.exit(130);
    }
    stopRequested = true;
    if (!gateway) return; // still starting: stopped as soon as it is up
    console.log(`\n${signal}: stopping the local gateway...`);
    await gateway.stop();
    console.log("Stopped. Nothing is left running.");
    process.exit(0);
  };
  // SIGHUP: the terminal was closed; its children must not outlive it either.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stop);

  try {
    // A session may run for hours: keep only recent publishes and model requests in memory.
    gateway = await startLocalGateway({ ...options, maxRecorded: 200, log: (line) => console.log(`- ${line}`) });
  } catch (err) {
    // ConfigError lists every bad key; other messages name the port, file or tool at fault.
    console.error(err instanceof ConfigError ? err.message : `Could not start the local gateway: ${(err as Error).message}`);
    process.exit(1);
  }
  if (stopRequested) {
    await gateway.stop();
    process.exit(0);
  }
  console.log(formatBanner(gateway, options));
}

await main();
