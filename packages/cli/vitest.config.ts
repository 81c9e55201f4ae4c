import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The tests run the real bin (dist/bin.js) as child processes; the global setup builds it first, so `vitest` alone
// works. A spawn costs about a second of CPU, and a test may make several beside other files' spawns: the time limit
// is for a busy machine ten times slower than an idle one.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "cli", globalSetup: ["./test/globalSetup.ts"], testTimeout: 120_000 } })
)
