// The API docs check of the test command, for the five published packages (core, node, redis, emulator, cli): every
// export has `@since` and `@category`, every service, layer and constructor an `@example` (examples go where they
// teach, not on every error class or constant), and every example type-checks and runs. One test for the five: one
// `tsc` loads Effect's types once for all their examples. See scripts/docs.mjs.
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

/**
 * The check's exit status and output, run asynchronously: a worker blocked for the whole check (over a minute on a
 * loaded machine) answers none of vitest's own messages, whose 60 s time limit then fails the run.
 */
const runCheck = () =>
  new Promise<{ status: number | null; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, "scripts/docs.mjs"), "--check"],
      // A hang guard only: the check takes about 25 s of CPU (one docgen and one tsc side by side, then tsx), and
      // starts first, beside the heaviest files; on a machine ten times slower than one with two busy loops that is
      // minutes.
      { cwd: root, encoding: "utf8", timeout: 330_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          output: stdout + stderr
        })
    )
  })

describe("API docs", () => {
  it(
    "docgen checks every export of the five packages, services, layers and constructors have examples, and every example type-checks and runs",
    async () => {
      const result = await runCheck()
      assert.strictEqual(result.status, 0, result.output)
    },
    340_000
  )
})

describe("the README's Install section", () => {
  it("opens with the Effect line the packages are for, the ERESOLVE an Effect 4 app meets, and the install for it", async () => {
    const { readFile } = await import("node:fs/promises")
    const readme = await readFile(path.join(root, "README.md"), "utf8")
    const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("| package | peer dependencies |"))
    assert.include(install, "**These packages are for Effect 3**")
    assert.include(install, "ERESOLVE")
    assert.include(install, "no Effect 4 line of these packages is published yet")
    const peers = { effect: "", "@effect/platform": "", "@effect/platform-node": "" } as Record<string, string>
    for (const dir of ["core", "node"]) {
      const manifest = JSON.parse(await readFile(path.join(root, "packages", dir, "package.json"), "utf8"))
      for (const name of Object.keys(peers)) peers[name] = manifest.peerDependencies[name] ?? peers[name]!
    }
    // The command it gives installs what the packages' peers ask for.
    assert.include(
      install,
      `npm i effect@${peers.effect} @effect/platform@${peers["@effect/platform"]} ` +
        `@effect/platform-node@${peers["@effect/platform-node"]}`
    )
  })
})
