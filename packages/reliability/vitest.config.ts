import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The global setup collects each file's figures and prints the suite's one-line summary at the end.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "reliability", globalSetup: ["./test/globalSetup.ts"], testTimeout: 120_000 } })
)
