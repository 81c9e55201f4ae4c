/**
 * Bundles the test fixtures that run as separate Node processes (`test/fixtures/*.ts`) into `build/run/<name>.mjs`,
 * straight from the TypeScript sources of the workspace packages (esbuild, no `tsc` first), so that the tests need
 * no build of theirs and do not wait on the typecheck.
 *
 * Usage: `node packages/redis/scripts/bundle-fixtures.mjs` (from anywhere); the tests' global setup calls it.
 */
import * as esbuild from "esbuild"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"
import { nodeProgram } from "../../../scripts/workspace-sources.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export const bundle = () =>
  esbuild.build({
    entryPoints: { dispatchMany: path.join(root, "test/fixtures/dispatchMany.ts") },
    outdir: path.join(root, "build/run"),
    ...nodeProgram
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()
