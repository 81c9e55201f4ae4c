// The API docs check of the test command, for the five published packages (core, node, redis, emulator, cli): every
// export has `@since`, `@category` and an `@example` (docgen), and every example type-checks and runs. One test for
// the five: one `tsc` loads Effect's types once for all their examples. See scripts/docs.mjs.
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

/**
 * The check's exit status and output, run asynchronously: a worker blocked for the whole check (over a minute on a
 * loaded machine) answers none of vitest's own messages, whose 60 s time limit then fails the run.
 */
const runCheck = () =>
  new Promise<{ status: number | null; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, "scripts/docs.mjs"), "--check"],
      // A hang guard only: the check takes seconds.
      { cwd: root, encoding: "utf8", timeout: 170_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          output: stdout + stderr
        })
    )
  })

describe("API docs", () => {
  it("docgen checks every export of the five packages, and every example type-checks and runs", async () => {
    const result = await runCheck()
    assert.strictEqual(result.status, 0, result.output)
  }, 180_000)
})
