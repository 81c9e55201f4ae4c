/**
 * The CommonJS half of the published packages. `tsc -b tsconfig.build.json` writes each package's ES modules and
 * declarations to `dist/`; this writes `dist/cjs/`: every source module transpiled to CommonJS one file at a time
 * (esbuild, no bundling, so `require("@effect-zego/core/RtmpDispatch")` loads one module as the ESM import does),
 * a `package.json` that marks the folder CommonJS, and a copy of the declarations, which TypeScript must read as
 * CommonJS there for a `require` to type-check (the ones in `dist/` are ESM, as the package is `"type": "module"`).
 *
 * Usage: `node scripts/build-cjs.mjs` after `tsc -b tsconfig.build.json` (from anywhere).
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The packages published to npm (the packaging test checks that these are all the non-private ones). */
const publishable = ["core", "node", "emulator", "cli", "redis"]

/** Modules that are programs rather than library code: the CLI's entry points have no CommonJS twin. */
const programs = new Set(["main.ts", "start.ts"])

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Every file under `dir` (relative paths), skipping the folders named in `skip`. */
const walk = (dir, skip = new Set()) =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    // `parentPath` from Node 20.12 on, `path` before.
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)))
    .filter((file) => !skip.has(file.split(path.sep)[0]))

const buildPackage = async (name) => {
  const pkg = path.join(root, "packages", name)
  const src = path.join(pkg, "src")
  const dist = path.join(pkg, "dist")
  const cjs = path.join(dist, "cjs")
  fs.rmSync(cjs, { recursive: true, force: true })
  const sources = walk(src).filter((file) => file.endsWith(".ts") && !programs.has(file))
  await esbuild.build({
    entryPoints: sources.map((file) => path.join(src, file)),
    outbase: src,
    outdir: cjs,
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcemap: true,
    logLevel: "warning"
  })
  fs.writeFileSync(path.join(cjs, "package.json"), "{ \"type\": \"commonjs\" }\n")
  // The declarations, one folder deeper: their maps' paths to the sources gain a `../`.
  for (const file of walk(dist, new Set(["cjs", "chunks"]))) {
    const module = file.replace(/\.d\.ts(\.map)?$/, ".ts")
    if (module === file || programs.has(module)) continue
    const to = path.join(cjs, file)
    fs.mkdirSync(path.dirname(to), { recursive: true })
    if (file.endsWith(".map")) {
      const map = JSON.parse(fs.readFileSync(path.join(dist, file), "utf8"))
      map.sources = map.sources.map((source) => `../${source}`)
      fs.writeFileSync(to, JSON.stringify(map))
    } else {
      fs.copyFileSync(path.join(dist, file), to)
    }
  }
}

await Promise.all(publishable.map(buildPackage))
