/**
 * Builds the CLI and the packages it references (`tsc -b packages/cli/tsconfig.src.json` at the repository root)
 * before the tests, which run the real `packages/cli/dist/bin.js` as a child process. Only the CLI's own project
 * graph is built, so that a package the CLI does not use cannot stop its tests. `tsc -b` trusts its build info, so
 * a deleted `dist` is rebuilt with `--force`. Then `scripts/bundle.mjs` bundles tsc's `dist/main.js` into the
 * `dist/bin.js` that ships.
 *
 * The reliability suite's global setup does the same: whichever runs first builds, and marks the build done in
 * `process.env.ZEGO_CLI_BIN_BUILT` (both run in vitest's main process), so that one run builds once.
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export default function setup(): void {
  if (process.env.ZEGO_CLI_BIN_BUILT === "1") return
  const force = existsSync(path.join(root, "packages/cli/dist/main.js")) ? [] : ["--force"]
  execFileSync(
    process.execPath,
    [path.join(root, "node_modules/typescript/bin/tsc"), "-b", "packages/cli/tsconfig.src.json", ...force],
    { cwd: root, stdio: "inherit" }
  )
  execFileSync(process.execPath, [path.join(root, "packages/cli/scripts/bundle.mjs")], { cwd: root, stdio: "inherit" })
  process.env.ZEGO_CLI_BIN_BUILT = "1"
}
