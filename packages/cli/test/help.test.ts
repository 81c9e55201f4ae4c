import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as CliError from "../src/CliError.js"
import * as Argv from "../src/internal/argv.js"
import * as CommandFlags from "../src/internal/flags.js"
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
        for (const line of result.stdout.split("\n")) assert.isAtMost(line.length, 80, "80 columns off a terminal")
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
      // The version alone, no blank line after it.
      assert.strictEqual(result.console, pkg.version)
    }))

  // The bin answers a lone `--version` before it loads the command tree; with anything else on the line the
  // command tree answers, as it always did.
  it.live("the bin: --version alone, and --version beside another flag, print package.json's version", () =>
    Effect.gen(function*() {
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
      for (const args of [["--version"], ["--version", "--log-level", "debug"]]) {
        const result = yield* Bin.run(args)
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stdout, `${pkg.version}\n`, args.join(" "))
        assert.strictEqual(result.stderr, "")
      }
    }))

  // The real bin: the rewrite of the line happens in Cli.run, before @effect/cli, and what a user sees is its output.
  it.live("--help anywhere on the line: the subcommand's help, even with a flag missing or invalid before it", () =>
    Effect.gen(function*() {
      const cases = [
        [["dispatch", "--type", "push", "--help"], "$ zego-rtmp dispatch --type"],
        [["dispatch", "--type", "sideways", "--stream-id", "x", "-h"], "$ zego-rtmp dispatch --type"],
        [["stream", "state", "--json", "--help"], "$ zego-rtmp stream state --stream-id ID"]
      ] as const
      for (const [args, usage] of cases) {
        const result = yield* Bin.run(args)
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stderr, "")
        assert.include(result.stdout, usage, args.join(" "))
        assert.include(result.stdout, "EXIT STATUS")
      }
    }))

  it.live("--wizard without a terminal on stdin fails at once with one line and status 2", () =>
    Effect.gen(function*() {
      // stdin is /dev/null: @effect/cli would wait for answers there; the hang guard is far above a normal run.
      for (const args of [["--wizard"], ["dispatch", "--wizard"]]) {
        const result = yield* Bin.run(args, { timeout: "30 seconds" })
        assert.strictEqual(result.code, 2, result.stderr)
        assert.strictEqual(result.stdout, "")
        assert.deepStrictEqual(Bin.lines(result.stderr), [
          `ValidationError (InvalidValue): ${Argv.wizardNeedsTerminal}. See zego-rtmp${
            args.length > 1 ? " dispatch" : ""
          } --help.`
        ])
      }
    }))

  it.live("--log-level after the command's flags sets the level, as before them", () =>
    Effect.gen(function*() {
      for (const args of [["--log-level", "debug"], ["--log-level=debug"]]) {
        const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "demo", ...args])
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stderr, "DEBUG")
        assert.include(result.stdout, "Node 1: rtmp://127.0.0.1:1935/live/demo")
      }
    }))

  it.live("every flag's help says what it is; every usage line starts with zego-rtmp; exit statuses listed", () =>
    Effect.gen(function*() {
      const pages = [
        [],
        ["dispatch"],
        ["emulator"],
        ["stream"],
        ["stream", "state"],
        ["stream", "forbid"],
        ["stream", "resume"],
        ["room"],
        ["room", "announce"],
        ["room", "withdraw"]
      ]
      for (const page of pages) {
        const result = yield* runInProcess([...page, "--help"])
        assert.strictEqual(result.code, 0, result.line)
        const help = result.console
        assert.notInclude(help, "A user-defined piece of text", page.join(" "))
        assert.notInclude(help, "A true or false value", page.join(" "))
        const usages = help.split("\n").filter((line) => line.startsWith("$ "))
        assert.isNotEmpty(usages)
        for (const usage of usages) {
          assert.match(
            usage,
            new RegExp(`^\\$ zego-rtmp${page.map((w) => ` ${w}`).join("")}`)
          )
        }
        // Each flag heading is followed by its own description, not by another heading.
        const lines = help.split("\n").filter((line) => line.trim() !== "")
        lines.forEach((line, index) => {
          if (/^--[a-z]/.test(line)) assert.match(lines[index + 1] ?? "", /^ {2}\S/, `${page.join(" ")}: ${line}`)
        })
        const statuses = help.slice(help.indexOf("EXIT STATUS"))
        for (
          const code of [CliError.EXIT_INVALID_INPUT, CliError.EXIT_FAILURE, ...Object.values(CliError.SIGNAL_EXIT)]
        ) {
          assert.match(statuses, new RegExp(`(^|\\n|, )${code}(\\n|,)`), `${page.join(" ")}: exit status ${code}`)
        }
      }
    }))

  // Every page of the command tree, as a user would ask for it.
  const everyPage: ReadonlyArray<ReadonlyArray<string>> = [
    [],
    ["dispatch"],
    ["emulator"],
    ...Object.entries(CommandFlags.actionCommands).flatMap(([group, rows]) => [
      [group],
      ...Object.keys(rows).map((name) => [group, name])
    ])
  ]

  it.live("every help page fits 60 to 120 columns, wrapped at spaces only, and says once where credentials come from", () =>
    Effect.gen(function*() {
      for (const page of everyPage) {
        const name = page.join(" ") || "zego-rtmp"
        // Wide enough for no line to wrap: the same words in the same order as at any width.
        const unwrapped = yield* runInProcess([...page, "--help"], {}, { columns: 100_000 })
        assert.strictEqual(unwrapped.code, 0, unwrapped.line)
        const words = unwrapped.console.split(/\s+/)
        for (const columns of [60, 80, 100, 120]) {
          const result = yield* runInProcess([...page, "--help"], {}, { columns })
          assert.strictEqual(result.code, 0, result.line)
          const help = result.console
          for (const line of help.split("\n")) {
            assert.isAtMost(line.length, columns, `${name} at ${columns}: ${line}`)
            // No entry padded to line up with the longest usage.
            assert.notMatch(line, /\S {3,}/, `${name} at ${columns}: ${line}`)
          }
          assert.deepStrictEqual(help.split(/\s+/), words, `${name} at ${columns}: a word split or lost`)
          // A command named in the text stays on one line, to be read (and copied) whole.
          if (page.length === 0) assert.include(help, "zego-rtmp stream state tells", `at ${columns}`)
          const credentials = help.split("Credentials come from ZEGO_APP_ID and ZEGO_SERVER_SECRET").length - 1
          assert.strictEqual(credentials, page[0] === "emulator" ? 0 : 1, `${name} at ${columns}`)
        }
        if (page[0] !== "emulator") assert.include(unwrapped.console, "ZEGO_IS_TEST", name)
      }
    }))
})
