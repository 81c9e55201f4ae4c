/**
 * An esbuild plugin that resolves `@effect-zego/<name>` to that workspace package's `src/index.ts`, and
 * `@effect-zego/<name>/<Module>` to its `src/<Module>.ts`, so that a bundle of an example, a test program or the
 * CLI needs no build of the packages (the tests read the same sources).
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../packages")

export const workspaceSources = {
  name: "workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@effect-zego\/[a-z-]+(\/[A-Za-z]+)?$/ }, (args) => {
      const [name, module = "index"] = args.path.slice("@effect-zego/".length).split("/")
      return { path: path.join(packages, name, "src", `${module}.ts`) }
    })
  }
}

/**
 * esbuild's options for a Node program bundled from the workspace's sources into one ES module per entry point
 * (`<name>.mjs`): an example, a test's child process. Add `entryPoints` and `outdir`.
 */
export const nodeProgram = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  // A CommonJS dependency's `require` of a Node built-in needs a real `require` in an ES module.
  banner: { js: "import { createRequire as __cr } from \"node:module\"\nconst require = __cr(import.meta.url)" },
  plugins: [workspaceSources],
  logLevel: "warning"
}
