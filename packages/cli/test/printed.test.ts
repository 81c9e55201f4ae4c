/**
 * The commands `zego-rtmp` prints run where they are printed. In a clone, what the README runs is
 * `npx -y pnpm@10.34.9 -s zego-rtmp …` (the root's `zego-rtmp` script, scripts/zego-rtmp.mjs), and `zego-rtmp` is
 * not on the PATH: every command printed there must start with that prefix, and each printed command path must be
 * one the clone form takes (its `--help` exits 0). The clone form itself runs once through the real `npx` and `pnpm`;
 * the paths go to the runner it starts (an `npx` costs seconds of CPU each). An installed `zego-rtmp` (no runner, no
 * `ZEGO_RTMP_INVOCATION`) prints plain `zego-rtmp …`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Bin from "./utils/bin.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const RUNNER = path.join(root, "scripts/zego-rtmp.mjs")

/** The clone form, as the README's first command has it. */
const CLONE = "npx -y pnpm@10.34.9 -s zego-rtmp"

/** The subcommands, to find a command in prose: `zego-rtmp` followed by one of them. */
const SUBCOMMANDS = "dispatch|emulator|stream|room|relay"

/**
 * Runs a shell command line in the repository's root, as a reader of the README would. The limit is a hang guard:
 * `npx` and `pnpm` start in a few seconds of CPU, which a machine as loaded as a busy CI runner can stretch to a
 * minute; a command stopped by it says so in `stderr`.
 */
const shell = (line: string, timeout = 150_000) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    execFile(
      "sh",
      ["-c", line],
      { cwd: root, env: Bin.environment(), timeout },
      (error, stdout, stderr) =>
        resume(Effect.succeed({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
          stdout,
          stderr: error?.killed === true ? `${stderr}\n(stopped after ${timeout / 1000} s)` : stderr
        }))
    )
  })

/**
 * What the runner prints for `args`, stdout and stderr together (a server is stopped once `stopAfter` shows), and its
 * exit status.
 */
const runner = (args: ReadonlyArray<string>, stopAfter?: RegExp) =>
  Effect.async<{ readonly code: number | null; readonly output: string }>((resume) => {
    const child = spawn(process.execPath, [RUNNER, ...args], { cwd: root, env: Bin.environment() })
    let output = ""
    const take = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      if (stopAfter?.test(output)) child.kill("SIGINT")
    }
    child.stdout.on("data", take)
    child.stderr.on("data", take)
    child.once("close", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(Effect.timeout("60 seconds"), Effect.orDie)

/** What the runner prints for `args` (see {@link runner}). */
const viaRunner = (args: ReadonlyArray<string>, stopAfter?: RegExp) =>
  Effect.map(runner(args, stopAfter), (result) => result.output)

/** The command paths (`emulator`, `stream state`, …, or none: the root) of the clone-form commands in a text. */
const printedPaths = (text: string): ReadonlyArray<string> => {
  const found = new Set<string>()
  const words = `${SUBCOMMANDS}|state|forbid|resume|announce|withdraw|streams|start|stop|clear`
  for (const match of text.matchAll(new RegExp(`npx -y pnpm@10\\.34\\.9 -s zego-rtmp((?: (?:${words})\\b)*)`, "g"))) {
    found.add(match[1]!.trim())
  }
  return [...found]
}

/** The commands in a text that a clone cannot run: `zego-rtmp <subcommand>` without the clone's prefix. */
const bare = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(new RegExp(`(^|.{0,3})zego-rtmp (${SUBCOMMANDS})\\b[^\\n]{0,30}`, "gm"))]
    .filter((match) => match[1] !== "-s ")
    .map((match) => match[0])

describe("the commands zego-rtmp prints", () => {
  it("the README's first command uses the clone form that the runner announces", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8")
    const first = /```sh\n(.*)\n/.exec(readme)?.[1] ?? ""
    assert.include(first, `&& ${CLONE} dispatch --type push --stream-id demo`)
    assert.include(readFileSync(RUNNER, "utf8"), `"${CLONE}"`)
  })

  it.effect("in a clone, every command printed runs as written there", () =>
    Effect.gen(function*() {
      const dispatch = yield* shell(`${CLONE} dispatch --type push --stream-id demo`)
      assert.strictEqual(dispatch.code, 0, dispatch.stderr)
      const outputs = [
        dispatch.stdout + dispatch.stderr,
        yield* viaRunner(["emulator"], /press Ctrl-C/),
        yield* viaRunner(["dispatch", "--type", "pish", "--stream-id", "demo"]),
        yield* viaRunner(["stream", "state", "--stream-id", "demo"]),
        yield* viaRunner(["stream", "--help"])
      ]
      const text = outputs.join("\n")
      assert.deepStrictEqual(bare(text), [], "a command a clone cannot run")
      const paths = printedPaths(text)
      for (const expected of ["dispatch", "emulator", "stream", "stream state"]) assert.include(paths, expected)
      // Through the runner the clone form starts (its first command above ran through npx and pnpm).
      const checked = yield* Effect.forEach(
        paths,
        (commandPath) =>
          runner([...commandPath.split(" ").filter((word) => word !== ""), "--help"]).pipe(
            Effect.map((result) => [commandPath, result.code] as const)
          ),
        { concurrency: 2 }
      )
      assert.deepStrictEqual(checked.filter(([, code]) => code !== 0), [])
    }), 400_000)

  it.effect("installed (no runner), the commands printed are zego-rtmp's own", () =>
    Effect.gen(function*() {
      const dispatch = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "demo"])
      assert.include(dispatch.stdout, "run zego-rtmp emulator --media-node")
      const invalid = yield* Bin.run(["dispatch", "--type", "pish", "--stream-id", "demo"])
      assert.include(invalid.stderr, "See zego-rtmp dispatch --help.")
      assert.notInclude(dispatch.stdout + invalid.stderr, "pnpm")
    }))
})
