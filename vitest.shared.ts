import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { UserConfig } from "vitest/config"

const packages = path.join(path.dirname(fileURLToPath(import.meta.url)), "packages")

// Tests run against the TypeScript sources of every workspace package, so no build is needed first.
export const shared: UserConfig = {
  resolve: {
    alias: [
      { find: /^@effect-zego\/([a-z-]+)\/([A-Za-z]+)$/, replacement: `${packages}/$1/src/$2.ts` },
      { find: /^@effect-zego\/([a-z-]+)$/, replacement: `${packages}/$1/src/index.ts` }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Worker threads that keep their modules from one test file to the next (vitest.config.ts); the setup file
    // undoes what one file could leave on @effect/vitest's shared `it`.
    pool: "threads",
    setupFiles: [path.join(path.dirname(fileURLToPath(import.meta.url)), "vitest.setup.ts")],
    // A hang guard, not a speed target: CPU-heavy properties take a few seconds here and must pass on a machine
    // ten times slower (or as loaded as CI's two cores with every project running).
    testTimeout: 120_000
  }
}
