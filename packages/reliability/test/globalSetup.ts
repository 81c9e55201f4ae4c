/**
 * Bundles what the suite runs as child processes (the CLI's bin, from the sources), then collects the figures
 * each test file of the suite records, and prints the suite's one-line summary when every file has run.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Figures, FIGURES_DIR, zero } from "./figures.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export default function setup(): () => void {
  // The CLI's tests bundle the same bin: whichever global setup runs first bundles it from the sources, once per run
  // (the mark is in the environment of vitest's main process, where all of them run).
  if (process.env.ZEGO_CLI_BIN_BUILT !== "1") {
    execFileSync(process.execPath, [path.join(root, "packages/cli/scripts/bundle.mjs"), "--sources"], {
      cwd: root,
      stdio: "inherit"
    })
    process.env.ZEGO_CLI_BIN_BUILT = "1"
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zego-reliability-"))
  process.env[FIGURES_DIR] = dir
  return () => {
    const files = fs.readdirSync(dir)
    // A run of other tests than the suite's (every package's setup runs first) has nothing to sum.
    if (files.length === 0) return fs.rmSync(dir, { recursive: true, force: true })
    const total = zero()
    const cases = new Set<string>()
    for (const file of files) {
      const figures = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Partial<Figures>
      for (const key of ["faults", "badInputs", "requests", "defects", "hangs", "lost"] as const) {
        total[key] += figures[key] ?? 0
      }
      for (const id of figures.cases ?? []) cases.add(id)
    }
    fs.rmSync(dir, { recursive: true, force: true })
    process.stdout.write(
      `reliability: faults injected ${total.faults}, bad inputs tried ${total.badInputs}, requests made ` +
        `${total.requests}, cases held ${cases.size}, defects ${total.defects}, hangs ${total.hangs}, ` +
        `lost ${total.lost}\n`
    )
  }
}
