/**
 * What the packaging tests pack is built by `tsc -b tsconfig.build.json` and `scripts/build-cjs.mjs`. Run on its own
 * (`vitest run`), the global setup builds it before any test. In the test command (`pnpm check`), that build is the
 * typecheck, run beside the tests rather than before them: the command names a file in `ZEGO_CHECK_BUILD_STATUS`,
 * where the build writes its exit status when it ends, and `builtBeside` waits for it.
 */
import * as fs from "node:fs/promises"
import { setTimeout as sleep } from "node:timers/promises"

const STATUS_FILE = "ZEGO_CHECK_BUILD_STATUS"

/** Whether the test command builds the packages beside the tests (the global setup then builds nothing). */
export const buildsBeside = (): boolean => process.env[STATUS_FILE] !== undefined

/**
 * Resolves once the build beside the tests has succeeded (at once when there is none); fails if it failed. A test's
 * hook time limit bounds the wait: the test command writes the status whatever the build's end.
 */
export const builtBeside = async (): Promise<void> => {
  const file = process.env[STATUS_FILE]
  if (file === undefined) return
  for (;;) {
    const status = await fs.readFile(file, "utf8").catch(() => undefined)
    if (status !== undefined) {
      if (status.trim() === "0") return
      throw new Error(
        `the build beside the tests (tsc -b, then scripts/build-cjs.mjs) exited with ${status.trim().slice(0, 20)}:` +
          " its output is at the end of the test command's"
      )
    }
    await sleep(200)
  }
}
