import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The global setup builds what is packed (ESM, CommonJS, declarations, the CLI's bin) before any test runs; in the test
// command the typecheck builds all but the bin beside the tests, and the packaging test waits for it (test/build.ts).
export default mergeConfig(
  shared,
  defineProject({ test: { name: "packaging", globalSetup: ["./test/globalSetup.ts"], testTimeout: 120_000 } })
)
