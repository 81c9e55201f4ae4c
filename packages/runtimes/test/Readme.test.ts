// The README shows the program every runtime runs whole: the first block of "Every runtime" must be src/dispatch.ts.
import { assert, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

it("the README's program of every runtime is src/dispatch.ts, character for character", () => {
  const readme = fs.readFileSync(path.resolve(here, "../../../README.md"), "utf8")
  const section = readme.slice(readme.indexOf("\n## Every runtime\n"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  assert.strictEqual(block, fs.readFileSync(path.resolve(here, "../src/dispatch.ts"), "utf8"))
})
