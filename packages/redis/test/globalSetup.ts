/**
 * Bundles the fixtures the shared-budget test runs in separate Node processes (`scripts/bundle-fixtures.mjs`:
 * esbuild, from the sources, no typecheck first), once per run.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../scripts/bundle-fixtures.mjs")

export default function setup(): void {
  execFileSync(process.execPath, [script], { stdio: "inherit" })
}
