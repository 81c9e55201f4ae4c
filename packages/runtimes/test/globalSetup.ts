// Bundles the program once per run (scripts/bundle.mjs), so that each runtime runs it as a user's bundle would.
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../scripts/bundle.mjs")

export default function setup(): void {
  execFileSync(process.execPath, [script], { stdio: "inherit" })
}
