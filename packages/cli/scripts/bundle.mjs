/**
 * Bundles the `zego-rtmp` executable: `dist/start.js` (tsc's output of src/start.ts, so run `tsc -b` first) and
 * everything it imports become `dist/bin.js` plus chunks in `dist/chunks/`, each loaded when first needed (the
 * program, `main.ts`, by any command line but a lone `--version`; the dispatch stack and the emulator by the
 * subcommands that use them). Node then reads a few files
 * instead of about a thousand modules: `zego-rtmp --version` starts in a fraction of the time.
 *
 * With `--sources`, the bundle is made from the TypeScript sources (`src/start.ts`, and the workspace packages'
 * `src/`) with no `tsc` first: what the repository's `zego-rtmp` runner (scripts/zego-rtmp.mjs) does, so that a
 * clone's first command needs neither TypeScript nor a typecheck. The bin is the same program either way; the
 * typecheck is the test command's.
 *
 * Usage: `node packages/cli/scripts/bundle.mjs [--sources]` (from anywhere).
 */
import * as esbuild from "esbuild"
import { chmodSync, rmSync } from "node:fs"
import process from "node:process"
import { fileURLToPath, URL } from "node:url"
import { workspaceSources } from "../../../scripts/workspace-sources.mjs"

/** A CommonJS dependency's `require` of a Node built-in needs a real `require` in an ES module. */
const requireShim = [
  "import { createRequire as __createRequire } from \"node:module\"",
  "const require = __createRequire(import.meta.url)"
].join("\n")

const dist = fileURLToPath(new URL("../dist/", import.meta.url))
const fromSources = process.argv.includes("--sources")

// Chunk names carry a content hash: last build's chunks go, so that dist/chunks holds only what bin.js imports.
rmSync(`${dist}chunks`, { recursive: true, force: true })

await esbuild.build({
  entryPoints: { bin: fromSources ? fileURLToPath(new URL("../src/start.ts", import.meta.url)) : `${dist}start.js` },
  plugins: fromSources ? [workspaceSources] : [],
  outdir: dist,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: { js: requireShim },
  legalComments: "none",
  logLevel: "warning"
})
chmodSync(`${dist}bin.js`, 0o755)
