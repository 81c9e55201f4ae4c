// API docs with @effect/docgen for the published library packages.
//
//   node scripts/docs.mjs                 build packages/<name>/docs (git-ignored) for core, node, redis
//   node scripts/docs.mjs --check [name…]  the test command's check: every export has @since, @category and an
//                                          @example, and every example type-checks and runs; nothing is kept
//
// docgen runs in a staging folder under the package's build/, not in the package itself: it needs a `homepage` in
// package.json, and it must not write into the package while a `pnpm docs` runs there too.
//
// The examples are checked here rather than by docgen, which skips those of classes (every service tag and error)
// and of re-exports: each `@example` becomes a file, one `tsc` checks them all, and one `tsx` runs them all.
// Examples import `@effect-zego/*` from the sources (as the tests do, through `paths`), so no build is needed.
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

const run = (cwd, argv, env = {}) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      env: {
        ...process.env,
        ...env,
        PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}`
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("close", (code) => resolve({ code, output }))
  })

const bin = (name, file) => path.join(root, "node_modules", name, file)

// Every `@example` of the package's public modules, as { file, line, code }.
const examplesOf = async (packageDir) => {
  const srcDir = path.join(packageDir, "src")
  const files = (await fs.readdir(srcDir)).filter((file) => file.endsWith(".ts"))
  const examples = []
  for (const file of files) {
    const lines = (await fs.readFile(path.join(srcDir, file), "utf8")).split("\n")
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\* @example$/.test(lines[i]) || !/^\s*\* ```ts$/.test(lines[i + 1] ?? "")) continue
      const code = []
      let j = i + 2
      for (; j < lines.length && !/^\s*\* ```$/.test(lines[j]); j++) code.push(lines[j].replace(/^\s*\*( |$)/, ""))
      examples.push({ file, line: i + 1, code: code.join("\n") })
      i = j
    }
  }
  return examples
}

// docgen enforces `@since` and `@example` but not `@category`: every documented export (each doc block with a
// `@since`, past the module's own) must name one.
const missingCategories = async (packageDir) => {
  const srcDir = path.join(packageDir, "src")
  const files = (await fs.readdir(srcDir)).filter((file) => file.endsWith(".ts"))
  const missing = []
  for (const file of files) {
    const blocks = (await fs.readFile(path.join(srcDir, file), "utf8")).match(/\/\*\*[\s\S]*?\*\//g) ?? []
    blocks.forEach((block, i) => {
      if (i > 0 && block.includes("@since") && !block.includes("@category")) {
        missing.push(`src/${file}: ${block.split("\n")[1]?.trim() ?? block}`)
      }
    })
  }
  return missing
}

// Type-checks and runs the examples in `dir`, one file each; says which example a failure is in.
const checkExamples = async (name, dir, examples, compilerOptions) => {
  await fs.mkdir(dir, { recursive: true })
  const names = examples.map(({ file, line }) => `${path.basename(file, ".ts")}-${line}.ts`)
  // As docgen does: an example may use `assert` without importing it.
  const withAssert = (code) => /\bassert\./.test(code) ? `import * as assert from "node:assert"\n${code}` : code
  await Promise.all(examples.map(({ code }, i) => fs.writeFile(path.join(dir, names[i]), `${withAssert(code)}\n`)))
  // All run in one process; a throw or a rejected promise fails the run.
  await fs.writeFile(path.join(dir, "index.ts"), names.map((file) => `import "./${file}"`).join("\n") + "\n")
  await fs.writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { ...compilerOptions, paths: sourcePaths }, include: ["*.ts"] })
  )
  const where = (output) => output.replace(/([\w-]+)-(\d+)\.ts/g, `packages/${name}/src/$1.ts (example at line $2) `)
  const tsc = await run(dir, [bin("typescript", "bin/tsc"), "--noEmit", "-p", "tsconfig.json"])
  if (tsc.code !== 0) return { code: tsc.code, output: `the examples do not type-check:\n${where(tsc.output)}` }
  const tsx = await run(dir, [bin("tsx", "dist/cli.mjs"), "--tsconfig", "tsconfig.json", "index.ts"])
  if (tsx.code !== 0) return { code: tsx.code, output: `the examples fail when run:\n${where(tsx.output)}` }
  return { code: 0, output: "" }
}

const docgen = async (name) => {
  const packageDir = path.join(packagesDir, name)
  const packageJson = await readJson(path.join(packageDir, "package.json"))
  const { $schema: _, examplesCompilerOptions, ...config } = await readJson(path.join(packageDir, "docgen.json"))
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
    await fs.writeFile(path.join(stage, "docgen.json"), JSON.stringify({ ...config, outDir: "docs" }))
    const [docs, examples] = await Promise.all([
      run(stage, [bin("@effect/docgen", "bin.cjs")], { DOCGEN_RUN_EXAMPLES: "false" }),
      examplesOf(packageDir).then((examples) =>
        checkExamples(name, path.join(stage, "examples"), examples, examplesCompilerOptions)
      )
    ])
    if (process.env.DOCS_VERBOSE) process.stderr.write(docs.output)
    if (docs.code === 0 && examples.code === 0 && !check) {
      await fs.rm(path.join(packageDir, "docs"), { recursive: true, force: true })
      await fs.cp(path.join(stage, "docs"), path.join(packageDir, "docs"), { recursive: true })
    }
    const uncategorised = await missingCategories(packageDir)
    const categories = uncategorised.length === 0
      ? { code: 0, output: "" }
      : { code: 1, output: `@category missing:\n${uncategorised.join("\n")}` }
    const failed = [docs, examples, categories].filter(({ code }) => code !== 0)
    return { name, code: failed.length === 0 ? 0 : 1, output: failed.map(({ output }) => output).join("\n") }
  } finally {
    await fs.rm(stage, { recursive: true, force: true })
  }
}

const started = Date.now()
const results = await Promise.all(names.map(docgen))
const failed = results.filter(({ code }) => code !== 0)
for (const { name, output } of failed) process.stderr.write(`docs failed for @effect-zego/${name}:\n${output}\n`)
const seconds = ((Date.now() - started) / 1000).toFixed(1)
if (failed.length === 0) {
  process.stdout.write(`docs ${check ? "checked" : "built"} for ${names.join(", ")} in ${seconds} s\n`)
}
process.exitCode = failed.length === 0 ? 0 : 1
