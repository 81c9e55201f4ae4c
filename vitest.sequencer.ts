/**
 * The order the test files start in: the longest first, so that a run does not end waiting on a long file that
 * started late. Vitest's own order does that from the durations it cached in an earlier run; a fresh clone has none,
 * and vitest's fallback (the largest files first) started the docs check, the longest file and a small one, last.
 *
 * `EXPECTED` holds the longest files' durations in seconds, measured on two cores with two busy loops beside the run;
 * a file not listed counts as short. The two that first wait for the build the test command runs beside the tests
 * (the docs check and the packaging test) are ranked just after the first four instead: started with them, they would
 * hold two of the four workers idle until the build ends. What vitest cached in an earlier run wins over the table: a
 * file that failed then starts first (as in vitest's order), else its duration counts.
 */
import { relative } from "node:path"
import type { TestSpecification } from "vitest/node"
import { BaseSequencer } from "vitest/node"

const EXPECTED: Readonly<Record<string, number>> = {
  "packages/cli/test/printed.test.ts": 35,
  "packages/core/test/StreamTracker.test.ts": 35,
  "packages/core/test/Callback.test.ts": 35,
  "packages/cli/test/Rtmp.e2e.test.ts": 30,
  // 70 and 30 s, after the build they wait for.
  "packages/core/test/Docs.test.ts": 29,
  "packages/packaging/test/Packaging.test.ts": 28,
  "packages/reliability/test/CallbackMemory.test.ts": 25,
  "packages/core/test/RoomStreamList.test.ts": 20,
  "packages/cli/test/stream.test.ts": 20,
  "packages/reliability/test/HostileReads.test.ts": 20,
  "packages/cli/test/emulator.test.ts": 20,
  "packages/redis/test/SharedBudget.test.ts": 20,
  "packages/reliability/test/HostileInput.test.ts": 15
}

export class SlowestFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const root = this.ctx.config.root
    const seconds = (spec: TestSpecification): number => {
      const file = relative(root, spec.moduleId)
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`)
      if (cached === undefined) return EXPECTED[file] ?? 0
      return cached.failed ? Infinity : cached.duration / 1000
    }
    // Vitest's order (by cached duration, else by size) breaks the ties.
    return (await super.sort(files))
      .map((spec, index) => ({ spec, index, seconds: seconds(spec) }))
      .sort((a, b) => b.seconds - a.seconds || a.index - b.index)
      .map(({ spec }) => spec)
  }
}
