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
