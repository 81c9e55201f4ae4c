/**
 * Bundles each example into `build/run/<name>.mjs`, straight from the TypeScript sources of the workspace packages
 * (no build of theirs needed), so that an example runs as the program it is: `node build/run/obsLive.mjs`.
 *
 * Usage: `node packages/examples/scripts/bundle.mjs` (from anywhere); the tests' global setup calls it too.
 */
import * as esbuild from "esbuild"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"
import { nodeProgram } from "../../../scripts/workspace-sources.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export const bundle = () =>
  esbuild.build({
    entryPoints: {
      obsLive: path.join(root, "src/obsLive.ts"),
      emulatorDemo: path.join(root, "src/emulatorDemo.ts"),
      library: path.join(root, "src/library.ts")
    },
    outdir: path.join(root, "build/run"),
    ...nodeProgram
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()
