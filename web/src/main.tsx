/** Boot: read config.json, configure Amplify Auth, render the app (or say what is wrong). */
import { render } from "preact";
import { configureAuth } from "./auth.js";
import { parseWebConfig } from "./config.js";
import { App } from "./ui/App.js";
import "./styles.css";

const root = document.getElementById("app")!;

async function boot(): Promise<void> {
  let config;
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status}).`);
    config = parseWebConfig(await response.json());
  } catch (error) {
    render(
      <main class="boot-error">
        <h1>The chat cannot start</h1>
        <p role="alert">{(error as Error).message || "config.json could not be read."}</p>
      </main>,
      root,
    );
    return;
  }
  document.title = config.appName;
  configureAuth(config);
  render(<App config={config} />, root);
}

void boot();
