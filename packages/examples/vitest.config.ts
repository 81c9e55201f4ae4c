import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The examples run as child processes, bundled once by the global setup.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "examples", globalSetup: ["./test/globalSetup.ts"], testTimeout: 180_000 } })
)
