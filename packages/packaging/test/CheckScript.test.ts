/**
 * The test command's script (`scripts/check.sh`, run by `pnpm check` and CI): the typecheck, the lint and the tests
 * run side by side, the tests see the build's exit status when it ends, and the last line names every job that failed,
 * each failed job's own output shown after the tests'. Here tsc, eslint and vitest are small stand-ins
 * (`ZEGO_CHECK_BIN`), so that the script's own logic is what runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

const stub = (dir: string, name: string, body: string) => {
  fs.writeFileSync(path.join(dir, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 })
}

describe("scripts/check.sh", () => {
  it("runs the jobs side by side and names each failed one in its last line, its output after the tests'", () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "zego-check-"))
    try {
      stub(bin, "tsc", "echo 'src/Broken.ts(1,7): error TS2322: a stand-in type error'; exit 2")
      stub(bin, "eslint", "echo 'eslint stand-in: nothing to say'; exit 0")
      // The tests wait for the build's status as the packaging test does, say what they saw, and fail.
      stub(
        bin,
        "vitest",
        [
          "for _ in $(seq 1 600); do [ -e \"$ZEGO_CHECK_BUILD_STATUS\" ] && break; sleep 0.1; done",
          "echo \"tests: the build's status is $(cat \"$ZEGO_CHECK_BUILD_STATUS\")\"",
          "exit 1"
        ].join("\n")
      )
      const run = spawnSync("bash", ["-c", "bash scripts/check.sh 2>&1"], {
        cwd: root,
        env: { ...process.env, ZEGO_CHECK_BIN: bin },
        encoding: "utf8",
        timeout: 60_000
      })
      const output = run.stdout
      assert.strictEqual(run.status, 1, output)
      const lines = output.trimEnd().split("\n")
      assert.deepStrictEqual(lines.slice(-2), [
        "check: failed: typecheck and build (tsc -b, then scripts/build-cjs.mjs)",
        "check: failed: tests (vitest run)"
      ])
      assert.include(output, "tests: the build's status is 2")
      const typeError = output.indexOf("error TS2322: a stand-in type error")
      assert.isAbove(typeError, output.indexOf("tests: the build's status"), output)
      // A job that passed shows nothing of its output.
      assert.notInclude(output, "eslint stand-in")
      assert.notInclude(output, "lint (eslint .)")
    } finally {
      fs.rmSync(bin, { recursive: true, force: true })
    }
  })
})
