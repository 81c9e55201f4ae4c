// Every example of the root README is a file that runs (as a program or as a test): each README block must be that
// file, character for character, so that the README shows only what runs.
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { execFile, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../../..")
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")

/** The first ```ts block after `marker` in the README. */
const blockAfter = (marker: string): string | undefined => {
  const at = readme.indexOf(marker)
  return at === -1 ? undefined : /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1]
}

/** A file's text; a test file's without its leading `//` comment lines (it says why it exists; the README need not). */
const source = (file: string): string => {
  const text = fs.readFileSync(path.join(root, file), "utf8")
  return file.endsWith(".test.ts") ? text.replace(/^(\/\/.*\n)+/, "") : text
}

describe("the README's examples are the files that run", () => {
  for (
    const [marker, file] of [
      ["## The library", "packages/examples/src/library.ts"],
      ["A whole app, run as a test", "packages/examples/src/obsLive.ts"],
      ["## The local emulator", "packages/examples/src/emulatorDemo.ts"],
      ["### Testing your code with the mock layer", "packages/core/test/ReadmeExample.test.ts"],
      ["## After the dispatch", "packages/core/test/ReadmeAfterDispatch.test.ts"]
    ] as const
  ) {
    it(`${marker} → ${file}`, () => {
      const block = blockAfter(marker)
      assert.isDefined(block, `no ts block after ${marker}`)
      if (file.endsWith(".test.ts") && marker === "## After the dispatch") {
        // Its blocks are fragments of one test: each line of each must be in the test.
        for (const line of block!.split("\n").filter((line) => line.trim() !== "" && !line.trim().startsWith("//"))) {
          assert.include(source(file), line.trim().replace(/ \/\/.*$/, ""), `${file} lacks: ${line}`)
        }
      } else {
        assert.strictEqual(block, source(file))
      }
    })
  }

  it("the emulator example runs as a program and prints its node, and only that", () => {
    const run = spawnSync(process.execPath, [path.resolve(here, "../build/run/emulatorDemo.mjs")], {
      encoding: "utf8",
      timeout: 60_000
    })
    assert.strictEqual(run.stdout, "rtmp://127.0.0.1:1935/live/s\n", run.stderr)
    assert.strictEqual(run.stderr, "")
    assert.strictEqual(run.status, 0)
  })

  it.scopedLive("the library example runs as a program on ZEGO_* and logs the OBS settings", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] })
      const run = yield* runExample("library", {
        ZEGO_APP_ID: String(Emulator.demoApp.appId),
        ZEGO_SERVER_SECRET: Redacted.value(Emulator.demoApp.serverSecret),
        ZEGO_BASE_URL: emulator.baseUrl
      })
      assert.include(run.stdout, "OBS server rtmp://127.0.0.1:1935/live/, stream key match-42 (", run.stderr)
      assert.strictEqual(run.code, 0, run.stderr)
    }))

  it.scopedLive("the library example with a wrong AppId fails with its error's message in one line", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] })
      const run = yield* runExample("library", {
        ZEGO_APP_ID: String(Emulator.demoApp.appId + 1),
        ZEGO_SERVER_SECRET: Redacted.value(Emulator.demoApp.serverSecret),
        ZEGO_BASE_URL: emulator.baseUrl
      })
      assertOneLine(run)
      assert.match(run.stderr, /^GatewayError: ZEGO code 100000010 .*check the AppId/, run.stderr)
      assert.strictEqual(run.stderr.split("GatewayError").length, 2, "the tag once")
    }))

  it.effect("the library example without ZEGO_* names the variables that are not set", () =>
    Effect.gen(function*() {
      const run = yield* runExample("library", {})
      assertOneLine(run)
      assert.strictEqual(run.stderr, "ZEGO_APP_ID is not set; ZEGO_SERVER_SECRET is not set\n")
    }))

  it.effect("the obs-live app without ZEGO_CALLBACK_SECRET names it, in one line", () =>
    Effect.gen(function*() {
      const run = yield* runExample("obsLive", {
        ZEGO_APP_ID: String(Emulator.demoApp.appId),
        ZEGO_SERVER_SECRET: Redacted.value(Emulator.demoApp.serverSecret),
        ZEGO_BASE_URL: "http://127.0.0.1:9",
        INGEST_TOKEN: "token",
        PORT: "0"
      })
      assertOneLine(run)
      assert.strictEqual(run.stderr, "ZEGO_CALLBACK_SECRET is not set\n")
    }))
})

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a bundled example as a program with only `env` (and PATH) set. */
const runExample = (name: string, env: Record<string, string>) =>
  Effect.async<Run>((resume) => {
    const child = execFile(process.execPath, [path.resolve(here, `../build/run/${name}.mjs`)], {
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH, ...env }
    }, (_error, stdout, stderr) => resume(Effect.succeed({ code: child.exitCode, stdout, stderr })))
  })

/** A failure as the README promises it: one line on stderr (no stack, no `FiberFailure`), a non-zero exit. */
const assertOneLine = (run: Run) => {
  assert.match(run.stderr, /^[^\n]+\n$/, run.stderr)
  assert.notInclude(run.stderr, "FiberFailure")
  assert.notMatch(run.stderr, /\bat /)
  assert.isAbove(run.code ?? 0, 0, `exit code ${run.code}`)
}
