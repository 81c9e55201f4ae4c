import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The shared-budget test runs fixtures in child processes; the global setup bundles them first.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "redis", globalSetup: ["./test/globalSetup.ts"] } })
)
