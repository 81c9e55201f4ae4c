/**
 * Bundles the CLI's executable (`scripts/bundle.mjs --sources`: `dist/bin.js` and its chunks, from the TypeScript
 * sources, esbuild only) before the tests, which run the real bin as a child process. The bin is the program the
 * `tsc` build bundles too, made without waiting for the typecheck, which the test command runs beside the tests.
 *
 * The reliability and packaging suites' global setups do the same: whichever runs first bundles, and marks it done in
 * `process.env.ZEGO_CLI_BIN_BUILT` (they all run in vitest's main process), so that one run bundles once and no
 * bundle is rewritten while a test runs it.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export default function setup(): void {
  if (process.env.ZEGO_CLI_BIN_BUILT === "1") return
  execFileSync(process.execPath, [path.join(root, "packages/cli/scripts/bundle.mjs"), "--sources"], {
    cwd: root,
    stdio: "inherit"
  })
  process.env.ZEGO_CLI_BIN_BUILT = "1"
}
