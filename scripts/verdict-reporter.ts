/**
 * The test run's last lines say what failed: each failed test by project, file and name, each file that failed
 * outside its tests (an import, a hook), and each unhandled error, one line each; or that everything passed. The
 * default reporter prints them above its summary, where a long run's output scrolls them away.
 */
import * as path from "node:path"
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from "vitest/node"

/** At most this many lines of failures, then a count of the rest. */
const MAX_LINES = 20

/** The first line of a message, cut to fit a line. */
const firstLine = (message: string | undefined): string => {
  const line = (message ?? "").split("\n", 1)[0]!.trim()
  return line.length > 160 ? `${line.slice(0, 159)}…` : line
}

export default class VerdictReporter implements Reporter {
  private verdict = ""

  // Printed once the default reporter has printed its summary (it prints it on `onFinished`).
  onFinished() {
    process.stdout.write(this.verdict)
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason
  ) {
    const failures: Array<string> = []
    for (const module of testModules) {
      // The file's path names its package; a project of its own (a package's config, run alone) is named too.
      const where = path.relative(process.cwd(), module.moduleId)
      const file = module.project.name === "" ? where : `|${module.project.name}| ${where}`
      let failedTests = 0
      for (const test of module.children.allTests("failed")) {
        failedTests++
        failures.push(`test failed: ${file} > ${test.fullName}: ${firstLine(test.result().errors?.[0]?.message)}`)
      }
      if (failedTests === 0 && module.state() === "failed") {
        failures.push(`file failed: ${file}: ${firstLine(module.errors()[0]?.message)}`)
      }
    }
    for (const error of unhandledErrors) failures.push(`unhandled error: ${firstLine(error.message)}`)
    const lines = failures.length <= MAX_LINES
      ? failures
      : [...failures.slice(0, MAX_LINES), `… and ${failures.length - MAX_LINES} more`]
    this.verdict = "\n" + (reason === "passed" && failures.length === 0
      ? `verdict: passed (${testModules.length} ${testModules.length === 1 ? "file" : "files"})\n`
      : `verdict: ${reason === "interrupted" ? "interrupted" : "FAILED"}\n${lines.map((l) => `  ${l}\n`).join("")}`)
  }
}
