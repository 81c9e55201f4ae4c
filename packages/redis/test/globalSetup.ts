/**
 * Builds this package and what it depends on, tests included (`tsc -b packages/redis`), before the tests:
 * the shared-budget test runs `build/test/fixtures/dispatchMany.js` in separate Node processes.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export default function setup(): void {
  execFileSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b", "packages/redis"], {
    cwd: root,
    stdio: "inherit"
  })
}
