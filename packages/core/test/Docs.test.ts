// The API docs check of the test command, for the five published packages (core, node, redis, emulator, cli): every
// export has `@since`, `@category` and an `@example` (docgen), and every example type-checks and runs. One test for
// the five: one `tsc` loads Effect's types once for all their examples. See scripts/docs.mjs.
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

describe("API docs", () => {
  it("docgen checks every export of the five packages, and every example type-checks and runs", () => {
    const result = spawnSync(process.execPath, [path.join(root, "scripts/docs.mjs"), "--check"], {
      cwd: root,
      encoding: "utf8",
      // A hang guard only: the check takes seconds.
      timeout: 170_000
    })
    assert.strictEqual(result.status, 0, `${result.stdout}${result.stderr}`)
  }, 180_000)
})
