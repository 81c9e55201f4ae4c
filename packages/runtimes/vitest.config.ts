import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// Each runtime runs the program bundled once by the global setup; one file per runtime, so that they run in parallel.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "runtimes", globalSetup: ["./test/globalSetup.ts"], testTimeout: 120_000 } })
)
