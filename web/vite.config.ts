/**
 * The chat UI's build. `npm run web:build` and `npm start` (through web/build.ts) use it; the
 * output is static files that read `config.json` at run time, so one build serves every stack.
 */
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Amplify Auth is the bulk of the bundle; one chunk loads in one round trip.
    chunkSizeWarningLimit: 600,
    sourcemap: false,
  },
  server: { host: "127.0.0.1" },
});
