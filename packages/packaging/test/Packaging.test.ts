/**
 * The published packages as a user installs them: each is packed as `pnpm publish` would pack it (workspace
 * versions replaced), and the tarball goes through attw (every TypeScript resolution profile: node10, node16 from
 * CommonJS, node16 from ESM, bundler) and `publint`; its manifest is checked against its sources; and every entry
 * point loads both through `require` and through `import`, with the same exports. The CLI's tarball alone is installed
 * with `npm i -g` into a temporary prefix, as a user who only wants `zego-rtmp` does: small, and its bin runs.
 */
import { checkPackage, createPackageFromTarballData } from "@arethetypeswrong/core"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { publint } from "publint"
import { formatMessage } from "publint/utils"
import { builtBeside } from "./build.js"
import { publishable } from "./publishable.js"

const run = promisify(execFile)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

type Manifest = {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly exports: Record<string, unknown>
  readonly typesVersions: { readonly "*": Record<string, ReadonlyArray<string>> }
  readonly [field: string]: unknown
}

const readJson = (file: string): Manifest => JSON.parse(fs.readFileSync(file, "utf8")) as Manifest

/** The public modules of a package: what its `src/index.ts` re-exports, and the core's `testing` entry point. */
const modulesOf = (name: string): ReadonlyArray<string> => {
  const index = fs.readFileSync(path.join(root, "packages", name, "src/index.ts"), "utf8")
  const modules = [...index.matchAll(/^export \* as \w+ from "\.\/(\w+)\.js"$/gm)].map((match) => match[1]!)
  return name === "core" ? [...modules, "testing"] : modules
}

/** pnpm as the test command was started with (`pnpm check` sets `npm_execpath`), else the pinned one through npx. */
const pnpm = (args: ReadonlyArray<string>, cwd: string) => {
  const execPath = process.env.npm_execpath
  return execPath !== undefined && /pnpm/.test(execPath)
    ? run(process.execPath, [execPath, ...args], { cwd })
    : run("npx", ["-y", "pnpm@10.34.9", ...args], { cwd })
}

let packs = ""
const tarball = (name: string): string => path.join(packs, `${name}.tgz`)
const unpacked = (name: string): string => path.join(packs, name, "package")

beforeAll(async () => {
  await builtBeside()
  packs = fs.mkdtempSync(path.join(os.tmpdir(), "zego-packs-"))
  // One pnpm for the five (a pnpm started through npx costs seconds of its own).
  const filters = publishable.flatMap((name) => ["--filter", `./packages/${name}`])
  await pnpm(["-r", ...filters, "pack", "--pack-destination", packs], root)
  await Promise.all(publishable.map(async (name) => {
    const { version } = readJson(path.join(root, "packages", name, "package.json"))
    fs.renameSync(path.join(packs, `effect-zego-${name}-${version}.tgz`), tarball(name))
    fs.mkdirSync(path.join(packs, name))
    await run("tar", ["-xzf", tarball(name), "-C", path.join(packs, name)])
  }))
  return () => fs.rmSync(packs, { recursive: true, force: true })
  // A hang guard: in the test command this waits for the typecheck's build too, which shares two cores with the tests.
}, 480_000)

describe("the published packages", () => {
  it("are every package that is not private", () => {
    const all = fs.readdirSync(path.join(root, "packages"))
      .filter((name) => fs.existsSync(path.join(root, "packages", name, "package.json")))
      .filter((name) => readJson(path.join(root, "packages", name, "package.json")).private !== true)
    assert.deepStrictEqual([...all].sort(), [...publishable].sort())
  })
})

describe.concurrent("the packed tarballs", () => {
  for (const name of publishable) {
    // attw's own check (what its CLI runs, strict profile: every problem counts), in this process: one TypeScript
    // loaded for the five tarballs rather than one per tarball.
    it(`${name}: attw finds no problem in any resolution profile`, async () => {
      const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(fs.readFileSync(tarball(name)))))
      if (analysis.types === false) return assert.fail("attw finds no types in the package")
      assert.deepStrictEqual(analysis.problems, [])
    })

    it(`${name}: publint reports nothing, not even a suggestion`, async () => {
      const bytes = fs.readFileSync(tarball(name))
      const tarballBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
      const { messages, pkg } = await publint({ pack: { tarball: tarballBuffer }, level: "suggestion", strict: true })
      assert.deepStrictEqual(messages.map((message) => formatMessage(message, pkg, { color: false })), [])
    })

    it(`${name}: the manifest has an entry point per public module, peers and no workspace versions`, () => {
      const dir = unpacked(name)
      const manifest = readJson(path.join(dir, "package.json"))
      const modules = modulesOf(name)
      assert.deepStrictEqual(
        Object.keys(manifest.exports).sort(),
        [".", "./internal/*", "./package.json", ...modules.map((module) => `./${module}`)].sort(),
        "an entry point per public module (`node scripts/sync-exports.mjs` writes them)"
      )
      assert.strictEqual(manifest.exports["./internal/*"], null)
      assert.deepStrictEqual(Object.keys(manifest.typesVersions["*"]).sort(), [...modules].sort())
      for (const module of ["index", ...modules]) {
        for (
          const file of [`dist/${module}.js`, `dist/${module}.d.ts`, `dist/cjs/${module}.js`, `dist/cjs/${module}.d.ts`]
        ) {
          assert.isTrue(fs.existsSync(path.join(dir, file)), `${name} ships ${file}`)
        }
      }
      for (const file of ["LICENSE", "README.md", "CHANGELOG.md"]) {
        assert.isTrue(fs.existsSync(path.join(dir, file)), `${name} ships ${file}`)
      }
      assert.isFalse(fs.existsSync(path.join(dir, "test")), "no tests in the tarball")
      assert.notInclude(JSON.stringify(manifest), "workspace:")
      assert.deepStrictEqual(manifest.publishConfig, { access: "public", provenance: true })
      assert.deepStrictEqual(manifest.engines, { node: ">=20" })
      assert.isDefined(manifest.sideEffects, "sideEffects is declared, for bundlers")
      const peers = (manifest.peerDependencies ?? {}) as Record<string, string>
      const dependencies = (manifest.dependencies ?? {}) as Record<string, string>
      if (name !== "core") {
        const core = readJson(path.join(root, "packages/core/package.json"))
        assert.strictEqual(peers["@effect-zego/core"], `^${core.version}`)
      }
      // Effect and its packages are peers in ranges, so that an app has one Effect, never one pinned by a library.
      assert.strictEqual(peers.effect, "^3.22.4")
      for (const dependency of Object.keys(dependencies)) {
        assert.notMatch(dependency, /^(effect|@effect\/|@effect-zego\/)/, `${name} depends on ${dependency} as a peer`)
      }
    })
  }
})

/**
 * Loads every entry point given through `require` and through `import`, in a plain Node process started in the
 * package's folder: a package can name itself, so Node resolves its exports map as it does for a user.
 */
const loadBoth = `
import { createRequire } from "node:module"
import * as path from "node:path"
const require = createRequire(path.join(process.cwd(), "package.json"))
const keys = (o) => Object.keys(o).filter((key) => key !== "default").sort()
const out = {}
for (const specifier of JSON.parse(process.argv[1])) {
  const cjs = require(specifier)
  const esm = await import(specifier)
  out[specifier] = { cjs: keys(cjs), esm: keys(esm), inner: keys(cjs).map((key) => [key, keys(cjs[key]), keys(esm[key])]) }
}
process.stdout.write(JSON.stringify(out))
`

type Loaded = Record<
  string,
  { cjs: Array<string>; esm: Array<string>; inner: Array<[string, Array<string>, Array<string>]> }
>

describe.concurrent("the entry points", () => {
  for (const name of publishable) {
    it(`${name}: each loads through require and through import, with the same exports`, async () => {
      const specifiers = ["", ...modulesOf(name)].map((module) => `@effect-zego/${name}${module ? `/${module}` : ""}`)
      const { stdout } = await run(process.execPath, [
        "--input-type=module",
        "-e",
        loadBoth,
        JSON.stringify(specifiers)
      ], {
        cwd: path.join(root, "packages", name),
        maxBuffer: 16 * 1024 * 1024
      })
      const loaded = JSON.parse(stdout) as Loaded
      for (const specifier of specifiers) {
        const { cjs, esm, inner } = loaded[specifier]!
        assert.isAbove(esm.length, 0, `${specifier} exports something`)
        assert.deepStrictEqual(cjs, esm, specifier)
        // An index re-exports namespaces: each must be the same from both halves.
        for (const [key, fromCjs, fromEsm] of inner) assert.deepStrictEqual(fromCjs, fromEsm, `${specifier} ${key}`)
      }
    })
  }
})

/** `npm i -g` of a file, as a user who only wants the bin does it, into a temporary prefix: nothing but that tarball. */
const installGlobally = async (file: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zego-global-"))
  const prefix = path.join(dir, "prefix")
  // The test command may run under pnpm, whose `npm_config_*` variables would reach npm: only our flags count here.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)))
  const { stdout } = await run(
    "npm",
    ["i", "-g", "--prefix", prefix, "--cache", path.join(dir, "cache"), "--offline", "--no-audit", "--no-fund", file],
    { cwd: dir, env }
  )
  return { dir, prefix, stdout }
}

describe("the CLI installed globally from its tarball alone", () => {
  it("pulls nothing else: no dependencies, and every peer optional (they serve code importing its modules)", () => {
    const manifest = readJson(path.join(unpacked("cli"), "package.json"))
    assert.isUndefined(manifest.dependencies, "the bin is one bundle: a dependency would be installed for nothing")
    const peers = Object.keys(manifest.peerDependencies as Record<string, string>)
    const meta = manifest.peerDependenciesMeta as Record<string, { optional?: boolean }> | undefined
    assert.deepStrictEqual(peers.filter((peer) => meta?.[peer]?.optional !== true), [], "peers not marked optional")
  })

  it("installs offline under 10 MB, and zego-rtmp runs a dispatch on its embedded emulator", async () => {
    const { dir, prefix, stdout } = await installGlobally(tarball("cli"))
    try {
      assert.match(stdout, /added 1 package/)
      const { stdout: du } = await run("du", ["-sk", prefix])
      const kilobytes = Number(du.split(/\s/)[0])
      assert.isBelow(kilobytes, 10 * 1024, `the global install takes ${kilobytes} kB`)
      const bin = path.join(prefix, "bin", "zego-rtmp")
      // No credentials and no server named: the dispatch goes to the emulator the bin starts on loopback.
      const env = {
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ZEGO_"))),
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`
      }
      const cli = (...args: ReadonlyArray<string>) => run(bin, args, { cwd: dir, env })
      const version = await cli("--version")
      assert.strictEqual(version.stdout.trim(), readJson(path.join(root, "packages/cli/package.json")).version)
      const dispatch = await cli("dispatch", "--type", "push", "--stream-id", "demo")
      assert.match(dispatch.stdout, /Publish \(push\): 1 node for stream demo/)
      assert.match(dispatch.stdout, /rtmp:\/\/127\.0\.0\.1:\d+\/live\/demo/)
      assert.match(dispatch.stderr, /embedded ZEGOCLOUD emulator at http:\/\/127\.0\.0\.1:\d+/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
