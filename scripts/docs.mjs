// API docs with @effect/docgen for the published library packages.
//
//   node scripts/docs.mjs                 build packages/<name>/docs (git-ignored) for core, node, redis
//   node scripts/docs.mjs --check [name…]  the test command's check: every export has @since, @category and an
//                                          @example; the examples type-check and run; nothing is kept
//
// docgen runs in a staging folder under the package's build/, not in the package itself: its examples import
// `../../src` relative to their folder, it needs a `homepage` in package.json, and it must not write into the
// package while a `pnpm docs` runs there too. Examples import `@effect-zego/*` from the sources (as the tests do,
// through `paths`), so no build is needed first.
import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const packagesDir = path.join(root, "packages")
const documented = ["core", "node", "redis"]

const args = process.argv.slice(2)
const check = args.includes("--check")
const named = args.filter((arg) => !arg.startsWith("--"))
const names = named.length > 0 ? named : documented

const readJson = async (file) => JSON.parse(await fs.readFile(file, "utf8"))

// The workspace packages an example may import, resolved to their sources.
const sourcePaths = Object.fromEntries(documented.flatMap((name) => [
  [`@effect-zego/${name}`, [path.join(packagesDir, name, "src", "index.ts")]],
  [`@effect-zego/${name}/*`, [path.join(packagesDir, name, "src", "*.ts")]]
]))

const run = (cwd, argv) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      // docgen starts `tsc` and `tsx` by name.
      env: { ...process.env, PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("close", (code) => resolve({ code, output }))
  })

const docgen = async (name) => {
  const packageDir = path.join(packagesDir, name)
  const packageJson = await readJson(path.join(packageDir, "package.json"))
  const config = await readJson(path.join(packageDir, "docgen.json"))
  await fs.mkdir(path.join(packageDir, "build"), { recursive: true })
  const stage = await fs.mkdtemp(path.join(packageDir, "build", "docgen-"))
  try {
    await fs.symlink(path.join(packageDir, "src"), path.join(stage, "src"), "dir")
    await fs.writeFile(
      path.join(stage, "package.json"),
      JSON.stringify({
        name: packageJson.name,
        homepage: packageJson.homepage ?? `https://github.com/effect-zego/effect-zego/tree/main/packages/${name}`
      })
    )
    const { $schema: _, ...rest } = config
    await fs.writeFile(
      path.join(stage, "docgen.json"),
      JSON.stringify({
        ...rest,
        outDir: "docs",
        examplesCompilerOptions: {
          ...config.examplesCompilerOptions,
          paths: { ...sourcePaths, ...config.examplesCompilerOptions?.paths }
        }
      })
    )
    const bin = path.join(root, "node_modules", "@effect/docgen", "bin.cjs")
    const { code, output } = await run(stage, [bin])
    if (process.env.DOCS_VERBOSE) process.stderr.write(output)
    if (code === 0 && !check) {
      await fs.rm(path.join(packageDir, "docs"), { recursive: true, force: true })
      await fs.cp(path.join(stage, "docs"), path.join(packageDir, "docs"), { recursive: true })
    }
    return { name, code, output }
  } finally {
    await fs.rm(stage, { recursive: true, force: true })
  }
}

const started = Date.now()
const results = await Promise.all(names.map(docgen))
let failed = false
for (const { code, name, output } of results) {
  if (code !== 0) {
    failed = true
    process.stderr.write(`docgen failed for @effect-zego/${name}:\n${output}\n`)
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(1)
process.stdout.write(
  failed ? "" : `docs ${check ? "checked" : "built"} for ${names.join(", ")} in ${seconds} s\n`
)
process.exitCode = failed ? 1 : 0
