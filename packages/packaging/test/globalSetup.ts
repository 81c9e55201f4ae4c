/**
 * Builds what the published packages ship: `tsc -b tsconfig.build.json` (ES modules and declarations in each
 * package's `dist/`), `scripts/build-cjs.mjs` (their CommonJS twins in `dist/cjs/`) and the CLI's bundled bin. `tsc -b`
 * trusts its build info, so a deleted `dist` is rebuilt with `--force`. In the test command the first two are the
 * typecheck's, run beside the tests (see build.ts), and this builds only the bin.
 *
 * The bin is bundled from the sources, the same program as from `tsc`'s output, and only if the CLI's or the
 * reliability suite's global setup has not done it in this run (`ZEGO_CLI_BIN_BUILT`, as they do).
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { buildsBeside } from "./build.js"
import { publishable } from "./publishable.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

const node = (...args: ReadonlyArray<string>): void => {
  execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" })
}

export default function setup(): void {
  if (!buildsBeside()) {
    const built = publishable.every((name) => existsSync(path.join(root, "packages", name, "dist/index.js")))
    node(path.join(root, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json", ...(built ? [] : ["--force"]))
    node(path.join(root, "scripts/build-cjs.mjs"))
  }
  if (process.env.ZEGO_CLI_BIN_BUILT !== "1") {
    node(path.join(root, "packages/cli/scripts/bundle.mjs"), "--sources")
    process.env.ZEGO_CLI_BIN_BUILT = "1"
  }
}
