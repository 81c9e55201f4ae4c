import { defineConfig } from "vitest/config"
import { SlowestFirst } from "./vitest.sequencer.js"
import { shared } from "./vitest.shared.js"

/** The packages whose tests need something built or collected first (each package's `test/globalSetup.ts`). */
const withGlobalSetup = ["cli", "examples", "packaging", "redis", "reliability", "runtimes"]

// Every package's tests as one project. Test files share their worker's modules (`isolate: false`, below), and vitest
// then runs one project after another, each until its last file ends while the other workers wait: one project lets
// the four workers take the next file as soon as one of them is free. Each package's own vitest.config.ts runs its
// tests alone (`cd packages/redis && npx vitest run`); from here, name the files (`npx vitest run packages/redis`).
export default defineConfig({
  resolve: shared.resolve,
  test: {
    ...shared.test,
    include: ["packages/*/test/**/*.test.ts"],
    globalSetup: withGlobalSetup.map((name) => `packages/${name}/test/globalSetup.ts`),
    // A hang guard, as in vitest.shared.ts, at the longest of the packages' own (the README's apps run as programs).
    testTimeout: 180_000,
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
