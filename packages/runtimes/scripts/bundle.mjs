/**
 * Bundles the program once per runtime into `build/run/`, straight from the TypeScript sources of the workspace
 * packages (no build of theirs needed): `cli.mjs` (Node, Bun, Deno), `worker.mjs` (workerd) and `browser.js` (a page).
 * Each is bundled for the browser platform, as a non-Node runtime resolves: nothing in it may need a Node built-in.
 *
 * Usage: `node packages/runtimes/scripts/bundle.mjs` (from anywhere); the tests' global setup calls it too.
 */
import * as esbuild from "esbuild"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"
import { workspaceSources } from "../../../scripts/workspace-sources.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

const common = {
  bundle: true,
  outdir: path.join(root, "build/run"),
  target: "es2022",
  plugins: [workspaceSources],
  logLevel: "warning"
}

export const bundle = () =>
  Promise.all([
    esbuild.build({
      ...common,
      entryPoints: { cli: path.join(root, "src/cli.ts"), worker: path.join(root, "src/worker.ts") },
      outExtension: { ".js": ".mjs" },
      format: "esm",
      platform: "browser"
    }),
    esbuild.build({
      ...common,
      entryPoints: { browser: path.join(root, "src/browser.ts") },
      format: "iife",
      platform: "browser"
    })
  ])

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()
