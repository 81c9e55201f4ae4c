import { defineConfig } from "vitest/config"
import { SlowestFirst } from "./vitest.sequencer.js"
import projects from "./vitest.workspace.js"

export default defineConfig({
  test: {
    projects,
    // Many suites wait on real time (the 40-per-second quota, timeouts, child processes) rather than on the
    // CPU, so more test files run at once than the default (cores - 1, one file at a time on two cores).
    maxWorkers: 4,
    minWorkers: 1,
    // The longest files first (see vitest.sequencer.ts), so that none of them is left to run alone at the end.
    sequence: { sequencer: SlowestFirst },
    // The last lines name what failed (scripts/verdict-reporter.ts), below the default reporter's summary.
    reporters: ["default", "./scripts/verdict-reporter.ts"]
  }
})
