// The API docs check of the test command: every export of @effect-zego/core has `@since`, `@category` and an
// `@example`, and the examples type-check and run (@effect/docgen, in a staging folder; see scripts/docs.mjs).
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

describe("API docs", () => {
  it("docgen checks every export and its example", () => {
    const result = spawnSync(process.execPath, [path.join(root, "scripts/docs.mjs"), "--check", "core"], {
      cwd: root,
      encoding: "utf8",
      // A hang guard only: the check takes seconds.
      timeout: 170_000
    })
    assert.strictEqual(result.status, 0, `${result.stdout}${result.stderr}`)
  }, 180_000)
})
