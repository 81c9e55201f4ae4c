/**
 * An esbuild plugin that resolves `@effect-zego/<name>` to that workspace package's `src/index.ts`, so that a
 * bundle of an example or a test program needs no build of the packages (the tests read the same sources).
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../packages")

export const workspaceSources = {
  name: "workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@effect-zego\/[a-z-]+$/ }, (args) => ({
      path: path.join(packages, args.path.slice("@effect-zego/".length), "src/index.ts")
    }))
  }
}
