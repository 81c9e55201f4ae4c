/**
 * Writes the entry points of each published package's manifest from its sources: `.`, one `./X` per module that
 * `src/index.ts` re-exports (and the core's `./testing`), `./package.json`, and `./internal/*` hidden; each with its
 * ESM half (`dist/`) for `import` and its CommonJS half (`dist/cjs/`) for `require`, and `typesVersions` for
 * TypeScript's node10 resolution, which reads no exports map. Run it after adding a public module; the packaging
 * test fails until it has run.
 *
 * Usage: `node scripts/sync-exports.mjs` (from anywhere).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Each published package and its entry points beyond those its index re-exports. */
const publishable = { core: ["testing"], node: [], emulator: [], cli: [], redis: [] }

const entry = (module) => ({
  import: { types: `./dist/${module}.d.ts`, default: `./dist/${module}.js` },
  require: { types: `./dist/cjs/${module}.d.ts`, default: `./dist/cjs/${module}.js` }
})

for (const [name, extra] of Object.entries(publishable)) {
  const dir = path.join(root, "packages", name)
  const index = fs.readFileSync(path.join(dir, "src/index.ts"), "utf8")
  const modules = [
    ...[...index.matchAll(/^export \* as \w+ from "\.\/(\w+)\.js"$/gm)].map((match) => match[1]),
    ...extra
  ]
  const file = path.join(dir, "package.json")
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"))
  manifest.exports = {
    "./package.json": "./package.json",
    ".": entry("index"),
    ...Object.fromEntries(modules.map((module) => [`./${module}`, entry(module)])),
    "./internal/*": null
  }
  manifest.typesVersions = { "*": Object.fromEntries(modules.map((module) => [module, [`./dist/cjs/${module}.d.ts`]])) }
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
}
