import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The tests run the real bin (dist/bin.js) as child processes; the global setup builds it first, so `vitest` alone
// works.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "cli", globalSetup: ["./test/globalSetup.ts"] } })
)
