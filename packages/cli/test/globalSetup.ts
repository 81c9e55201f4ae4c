/**
 * Builds the workspace (`tsc -b tsconfig.build.json` at the repository root) before the CLI tests, which run the
 * real `packages/cli/dist/bin.js` as a child process.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export default function setup(): void {
  execFileSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit"
  })
}
