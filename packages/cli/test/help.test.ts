import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as Bin from "./utils/bin.js"
import { runInProcess } from "./utils/inProcess.js"

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/

describe.concurrent("--help and --version", () => {
  it.live("zego-rtmp --help lists every command; with no command it prints the help too", () =>
    Effect.gen(function*() {
      for (const args of [["--help"], []]) {
        const result = yield* Bin.run(args)
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stdout, "USAGE")
        assert.match(result.stdout, /dispatch --type push \| pull \| publish --stream-id ID/)
        assert.match(result.stdout, /emulator \[--port N\] \[--config FILE\]/)
        for (const action of ["state", "forbid", "resume"]) {
          assert.match(result.stdout, new RegExp(`stream ${action} --stream-id ID`))
        }
        assert.match(result.stdout, /room announce --room-id R --stream-id ID/)
        assert.match(result.stdout, /room withdraw --room-id R --stream-id ID/)
        assert.notMatch(result.stdout, ANSI, "no colours when stdout is not a terminal")
        assert.strictEqual(result.stderr, "")
      }
    }))

  // The subcommands' help and the version come from the same command tree, run in the test's process: the spawns
  // above check what the bin adds (no colours off a terminal, the help with no command).
  it.live("zego-rtmp dispatch --help documents every flag and the environment", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["dispatch", "--help"])
      assert.strictEqual(result.code, 0, result.line)
      for (
        const flag of [
          "--type",
          "--stream-id",
          "--client-ip",
          "--sequence",
          "--v1",
          "--json",
          "--region",
          "--base-url",
          "--test-env"
        ]
      ) {
        assert.include(result.console, flag)
      }
      assert.include(result.console, "ZEGO_APP_ID")
      assert.include(result.console, "ZEGO_SERVER_SECRET")
    }))

  it.live("zego-rtmp emulator --help documents --port, --config and --media-node", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["emulator", "--help"])
      assert.strictEqual(result.code, 0, result.line)
      assert.include(result.console, "--port N")
      assert.include(result.console, "--config FILE")
      assert.include(result.console, "--media-node")
      assert.include(result.console, "Ctrl-C")
    }))

  it.live("zego-rtmp stream state and room announce --help document their flags and the credentials they need", () =>
    Effect.gen(function*() {
      const state = yield* runInProcess(["stream", "state", "--help"])
      assert.strictEqual(state.code, 0, state.line)
      for (const flag of ["--stream-id", "--json", "--region", "--base-url", "--test-env", "ZEGO_APP_ID"]) {
        assert.include(state.console, flag)
      }
      const announce = yield* runInProcess(["room", "announce", "--help"])
      assert.strictEqual(announce.code, 0, announce.line)
      for (
        const flag of ["--room-id", "--stream-id", "--user-id", "--user-name", "--title", "--extra-info", "--json"]
      ) {
        assert.include(announce.console, flag)
      }
      assert.include(announce.console, "zego-rtmp emulator")
    }))

  it.live("--version prints package.json's version", () =>
    Effect.gen(function*() {
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
      const result = yield* runInProcess(["--version"])
      assert.strictEqual(result.code, 0)
      assert.strictEqual(result.console.trim(), pkg.version)
    }))
})
