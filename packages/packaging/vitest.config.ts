import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The global setup builds what is packed (ESM, CommonJS, declarations, the CLI's bin) before any test runs, so that
// no build writes into a `dist/` that another project's test is reading.
export default mergeConfig(
  shared,
  defineProject({ test: { name: "packaging", globalSetup: ["./test/globalSetup.ts"], testTimeout: 120_000 } })
)
