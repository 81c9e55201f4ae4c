// The README shows the example app whole: the block after "A whole app" must be the file the e2e test runs.
import { assert, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

it("the README's app is src/obsLive.ts, character for character", () => {
  const readme = fs.readFileSync(path.resolve(here, "../../../README.md"), "utf8")
  const section = readme.slice(readme.indexOf("A whole app, run as a test"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  assert.strictEqual(block, fs.readFileSync(path.resolve(here, "../src/obsLive.ts"), "utf8"))
})
