/**
 * The repository's `zego-rtmp` (`npx -y pnpm@10.34.9 -s zego-rtmp …`, the root package's `zego-rtmp` script): bundles
 * packages/cli/dist/bin.js from the TypeScript sources when a source is newer than it (esbuild only, about a second,
 * one line on stderr per step), then runs it in this process. An up-to-date bin starts at once: no `tsc`, no
 * bundler. The typecheck is the test command's (`pnpm check`).
 *
 * It sets `ZEGO_RTMP_INVOCATION` to the command it is started by, so that every command the CLI prints (the
 * emulator's banner, the dispatch's hint, `See … --help.`) runs as written in a clone, where `zego-rtmp` is not on
 * the PATH. An installed `zego-rtmp` has no such variable and prints `zego-rtmp …`.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(root, "packages/cli/dist/bin.js")

/** What the bundle is made of: the CLI's sources and those of the workspace packages it imports, and the build. */
const inputs = [
  ...["cli", "core", "emulator", "node"].flatMap((name) => [`packages/${name}/src`, `packages/${name}/package.json`]),
  "packages/cli/scripts/bundle.mjs",
  "scripts/workspace-sources.mjs"
].map((input) => path.join(root, input))

/** The newest modification time under `file`, in milliseconds. */
const newest = (file) => {
  const stat = statSync(file, { throwIfNoEntry: false })
  if (stat === undefined) return 0
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(file).map((entry) => newest(path.join(file, entry))))
}

const say = (line) => process.stderr.write(`zego-rtmp: ${line}\n`)

const built = statSync(bin, { throwIfNoEntry: false })?.mtimeMs ?? 0
if (built < Math.max(...inputs.map(newest))) {
  if (!existsSync(path.join(root, "node_modules/esbuild"))) {
    say(
      "the CLI's dependencies are not installed; run npx -y pnpm@10.34.9 install --prod --filter @effect-zego/cli... first."
    )
    process.exit(1)
  }
  say(`${built === 0 ? "building" : "sources changed: rebuilding"} packages/cli/dist/bin.js (esbuild, from src/)…`)
  const started = Date.now()
  const bundle = spawnSync(process.execPath, [path.join(root, "packages/cli/scripts/bundle.mjs"), "--sources"], {
    stdio: "inherit"
  })
  if (bundle.status !== 0) process.exit(bundle.status ?? 1)
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s; running it.`)
}

process.env.ZEGO_RTMP_INVOCATION ??= "npx -y pnpm@10.34.9 -s zego-rtmp"
await import(pathToFileURL(bin).href)
