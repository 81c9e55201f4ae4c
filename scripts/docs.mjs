// API docs with @effect/docgen for the published library packages.
//
//   node scripts/docs.mjs                 build packages/<name>/docs (git-ignored) for core, node, redis, emulator, cli
//   node scripts/docs.mjs --check [name…]  the test command's check: every export has @since and @category, every
//                                          service, layer and constructor an @example, and every example
//                                          type-checks and runs; nothing is kept
//
// Examples go where they teach (STYLE.md): services, layers, constructors, module headers, anything surprising. An
// error class, a constant or a type whose example would only restate it has a one-line doc and no example, so docgen
// does not require one on every export (`enforceExamples` is off here, whatever a package's docgen.json says); this
// script requires one on the categories where an example always teaches.
//
// docgen runs in a staging folder under the package's build/, not in the package itself: it needs a `homepage` in
// package.json, and it must not write into the package while a `pnpm run docs` runs there too. (`pnpm docs`, without
// `run`, is pnpm's own command that opens a package's homepage.)
//
// The examples are checked here rather than by docgen, which skips those of classes (every service tag and error)
// and of re-exports: each `@example` becomes a file, one `tsc` checks them all, and one `tsx` runs them all.
// Examples import `@effect-zego/*` as published (through `paths`, the packages' `dist/`: what a user compiles against
// and runs, and a third of the CPU of type-checking the sources once more), so the check builds first (`tsc -b
// tsconfig.build.json`, nothing to do when it is up to date). In the test command the build runs beside the tests and
// writes its exit status to the file named by ZEGO_CHECK_BUILD_STATUS (scripts/check.sh): the check waits for that.
import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import process from "node:process"
import { setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const packagesDir = path.join(root, "packages")
const documented = ["core", "node", "redis", "emulator", "cli"]

const args = process.argv.slice(2)
const check = args.includes("--check")
const named = args.filter((arg) => !arg.startsWith("--"))
const names = named.length > 0 ? named : documented

const readJson = async (file) => JSON.parse(await fs.readFile(file, "utf8"))

// The workspace packages an example may import, resolved to their builds: `.d.ts` for TypeScript, `.js` for tsx.
const builtPaths = (extension) =>
  Object.fromEntries(documented.flatMap((name) => [
    [`@effect-zego/${name}`, [path.join(packagesDir, name, "dist", `index${extension}`)]],
    [`@effect-zego/${name}/*`, [path.join(packagesDir, name, "dist", `*${extension}`)]]
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
    const started = Date.now()
    child.on("close", (code) => {
      if (process.env.DOCS_VERBOSE) {
        process.stderr.write(
          `${path.basename(argv[0] === process.execPath ? argv[1] : argv[0])} ${argv.at(-1)}: ${
            Date.now() - started
          } ms\n`
        )
      }
      resolve({ code, output })
    })
  })

const bin = (name, file) => path.join(root, "node_modules", name, file)

// The packages' `dist/`: built here, or, in the test command, by the build beside the tests, waited for. The test's
// time limit bounds the wait: the test command writes the status whatever the build's end.
const built = async () => {
  const status = process.env.ZEGO_CHECK_BUILD_STATUS
  if (status === undefined) return run(root, [bin("typescript", "bin/tsc"), "-b", "tsconfig.build.json"])
  for (;;) {
    const code = await fs.readFile(status, "utf8").then((text) => Number(text.trim()), () => undefined)
    if (code !== undefined) {
      return { code, output: code === 0 ? "" : "the build beside the tests failed: its output ends the test command's" }
    }
    await sleep(200)
  }
}

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

// The categories whose exports always need an example: how to get a service, build it, provide it.
const exampleCategories = new Set(["services", "layers", "constructors"])

// docgen enforces `@since` but not `@category`: every documented export (each doc block with a
// `@since`, past the module's own) must name one, and one of `exampleCategories` must have an `@example`.
const missingTags = async (packageDir) => {
  const srcDir = path.join(packageDir, "src")
  const files = (await fs.readdir(srcDir)).filter((file) => file.endsWith(".ts"))
  const missing = []
  for (const file of files) {
    const blocks = (await fs.readFile(path.join(srcDir, file), "utf8")).match(/\/\*\*[\s\S]*?\*\//g) ?? []
    blocks.forEach((block, i) => {
      if (i === 0 || !block.includes("@since")) return
      const where = `src/${file}: ${block.split("\n")[1]?.trim() ?? block}`
      const category = /@category (.+)/.exec(block)?.[1].trim()
      if (category === undefined) missing.push(`@category missing: ${where}`)
      else if (exampleCategories.has(category) && !block.includes("@example")) {
        missing.push(`@example missing (a ${category} export): ${where}`)
      }
    })
  }
  return missing
}

// Writes each package's examples into its stage (so that they resolve their imports as that package does), then
// type-checks all of them with one `tsc` and runs all of them in one `tsx` process (a throw or a rejected promise
// fails the run). One `tsc` for every package: each run would otherwise load Effect's types again.
const checkExamples = async (stages, compilerOptions) => {
  const examples = []
  for (const { name, packageDir, stage } of stages) {
    const dir = path.join(stage, "examples")
    await fs.mkdir(dir, { recursive: true })
    for (const { code, file, line } of await examplesOf(packageDir)) {
      const target = path.join(dir, `${name}--${path.basename(file, ".ts")}-${line}.ts`)
      // As docgen does, an example may use `assert` without importing it: imported on the example's first line, so
      // that the line numbers of an error are the example's own.
      const assert = /\bassert\./.test(code) ? `import * as assert from "node:assert"; ` : ""
      await fs.writeFile(target, `${assert}${code}\n`)
      examples.push({ name, target })
    }
  }
  const dir = path.join(stages[0].stage, "examples")
  await fs.writeFile(
    path.join(dir, "index.ts"),
    examples.map(({ target }) => `import ${JSON.stringify(target)}`).join("\n")
  )
  const files = [...examples.map(({ target }) => target), path.join(dir, "index.ts")]
  for (const [config, extension] of [["tsconfig.json", ".d.ts"], ["tsconfig.run.json", ".js"]]) {
    await fs.writeFile(
      path.join(dir, config),
      JSON.stringify({ compilerOptions: { ...compilerOptions, paths: builtPaths(extension) }, files })
    )
  }
  // A failure names the package, the file and the line of the `@example` it is in.
  const where = (output) =>
    output.replace(/(?:[^\s(]*\/)?([a-z]+)--(\w+)-(\d+)\.ts/g, "packages/$1/src/$2.ts (the example at line $3) ")
  const build = await built()
  if (build.code !== 0) return { code: build.code, output: `the packages do not build:\n${build.output}` }
  const tsc = await run(dir, [bin("typescript", "bin/tsc"), "--noEmit", "-p", "tsconfig.json"])
  if (tsc.code !== 0) return { code: tsc.code, output: `the examples do not type-check:\n${where(tsc.output)}` }
  const tsx = await run(dir, [bin("tsx", "dist/cli.mjs"), "--tsconfig", "tsconfig.run.json", "index.ts"])
  if (tsx.code !== 0) return { code: tsx.code, output: `the examples fail when run:\n${where(tsx.output)}` }
  return { code: 0, output: "" }
}

// A staging folder for docgen: its own package.json and docgen.json, and the package's sources linked in.
const prepare = async (name) => {
  const packageDir = path.join(packagesDir, name)
  const packageJson = await readJson(path.join(packageDir, "package.json"))
  const { $schema: _, examplesCompilerOptions, ...config } = await readJson(path.join(packageDir, "docgen.json"))
  await fs.mkdir(path.join(packageDir, "build"), { recursive: true })
  const stage = await fs.mkdtemp(path.join(packageDir, "build", "docgen-"))
  await fs.symlink(path.join(packageDir, "src"), path.join(stage, "src"), "dir")
  await writeDocgenFiles(stage, {
    name: packageJson.name,
    homepage: packageJson.homepage ?? `https://github.com/effect-zego/effect-zego/tree/main/packages/${name}`
  }, config)
  return { name, packageDir, stage, config, examplesCompilerOptions }
}

const writeDocgenFiles = async (stage, packageJson, config) => {
  await fs.writeFile(path.join(stage, "package.json"), JSON.stringify(packageJson))
  // The check keeps nothing docgen writes, only what it enforces (`@since` on every export), which it reads from the
  // doc comments: its parse then loads none of the modules the sources import (Effect's types above all), half of
  // its time. The docs built keep the types it prints in each signature.
  const parse = check ? { parseCompilerOptions: { noResolve: true, noLib: true, types: [] } } : {}
  await fs.writeFile(
    path.join(stage, "docgen.json"),
    JSON.stringify({ ...config, ...parse, enforceExamples: false, outDir: "docs" })
  )
}

// For the check, one docgen for all the packages: their sources side by side in one stage (`src/<name>/`), each
// package's exclusions kept. Its parse reads each module on its own (no imports resolved), so the packages do not
// meet; one process loads TypeScript and docgen once rather than once per package.
const prepareTogether = async (stages) => {
  const stage = await fs.mkdtemp(path.join(stages[0].packageDir, "build", "docgen-all-"))
  await fs.mkdir(path.join(stage, "src"))
  for (const { name, packageDir } of stages) {
    await fs.symlink(path.join(packageDir, "src"), path.join(stage, "src", name), "dir")
  }
  const exclude = stages.flatMap(({ name, config }) =>
    (config.exclude ?? []).map((pattern) => pattern.replace(/^src\//, `src/${name}/`))
  )
  await writeDocgenFiles(stage, {
    name: "@effect-zego/docs-check",
    homepage: "https://github.com/effect-zego/effect-zego"
  }, {
    exclude
  })
  return stage
}

// docgen itself: the markdown, and `@since` on every export.
const docgen = async (stage) => {
  const docs = await run(stage, [bin("@effect/docgen", "bin.cjs")], { DOCGEN_RUN_EXAMPLES: "false" })
  if (process.env.DOCS_VERBOSE) process.stderr.write(docs.output)
  return docs
}

// The `@category` and `@example` check of one package.
const categories = async ({ name, packageDir }) => {
  const missing = await missingTags(packageDir)
  return { name, code: missing.length === 0 ? 0 : 1, output: missing.join("\n") }
}

const started = Date.now()
const stages = await Promise.all(names.map(prepare))
const together = check ? await prepareTogether(stages) : undefined
let results
try {
  const examples = checkExamples(stages, stages[0].examplesCompilerOptions)
  const docs = together === undefined
    ? stages.map(async (stage) => ({ name: stage.name, ...await docgen(stage.stage) }))
    : [docgen(together).then((result) => ({ name: names.join(", "), ...result }))]
  results = [
    ...await Promise.all(docs),
    ...await Promise.all(stages.map(categories)),
    { name: names.join(", "), ...await examples }
  ]
  if (!check && results.every(({ code }) => code === 0)) {
    for (const { packageDir, stage } of stages) {
      await fs.rm(path.join(packageDir, "docs"), { recursive: true, force: true })
      await fs.cp(path.join(stage, "docs"), path.join(packageDir, "docs"), { recursive: true })
    }
  }
} finally {
  await Promise.all(
    [...stages.map(({ stage }) => stage), ...(together === undefined ? [] : [together])].map((stage) =>
      fs.rm(stage, { recursive: true, force: true })
    )
  )
}
const failed = results.filter(({ code }) => code !== 0)
for (const { name, output } of failed) process.stderr.write(`docs failed for @effect-zego/${name}:\n${output}\n`)
const seconds = ((Date.now() - started) / 1000).toFixed(1)
if (failed.length === 0) {
  process.stdout.write(`docs ${check ? "checked" : "built"} for ${names.join(", ")} in ${seconds} s\n`)
}
process.exitCode = failed.length === 0 ? 0 : 1
