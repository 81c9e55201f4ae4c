import { defineConfig } from "vitest/config"
import { SlowestFirst } from "./vitest.sequencer.js"
import projects from "./vitest.workspace.js"

export default defineConfig({
  test: {
    projects,
    // Many suites wait on real time (the 40-per-second quota, timeouts, child processes) rather than on the
    // CPU, so more test files run at once than the default (cores - 1, one file at a time on two cores).
    maxWorkers: 4,
    // All four kept for the whole run: with `isolate: false`, a thread that the pool ends for being idle while the
    // run goes on fails it with "Terminating worker thread".
    minWorkers: 4,
    // A worker's test files share its modules (Effect, the packages' sources), loaded once rather than once per
    // file: a third less CPU for the whole run. vitest.setup.ts resets what a file may leave on the shared `it`.
    poolOptions: { threads: { isolate: false } },
    // The longest files first (see vitest.sequencer.ts), so that none of them is left to run alone at the end.
    sequence: { sequencer: SlowestFirst },
    // The last lines name what failed (scripts/verdict-reporter.ts), below the default reporter's summary.
    reporters: ["default", "./scripts/verdict-reporter.ts"]
  }
})
