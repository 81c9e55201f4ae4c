// Bundles the examples once per run (scripts/bundle.mjs), so that each test runs an example's file as written, as
// a program.
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../scripts/bundle.mjs")

export default function setup(): void {
  execFileSync(process.execPath, [script], { stdio: "inherit" })
}
