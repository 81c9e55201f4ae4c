/**
 * Helpers of the end-to-end tests with real tools (nginx-rtmp, ffmpeg): a tool run in its own process group under
 * `timeout`, a loopback stack of the emulator and a media node, the CLI's dispatch as JSON.
 */
import { Emulator, MediaNode } from "@effect-zego/emulator"
import { assert } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type * as MediaCommands from "../../src/MediaCommands.js"
import type * as Output from "../../src/Output.js"
import * as Bin from "./bin.js"

/** How long a tool may run (`timeout -k 5 <seconds>`): a publish of a few seconds, a player, ffprobe. */
export const TOOL_SECONDS = 90

/** How long a line may take to show in nginx's log, and a process to end. */
export const WAIT_MILLIS = 60_000

/** Fails, naming the Debian package, when a program the test runs is not installed. */
export const requireTool = (program: string, debianPackage: string) =>
  Effect.sync(() => spawnSync(program, ["-version"], { stdio: "ignore" })).pipe(
    Effect.filterOrDieMessage(
      (result) => result.error === undefined,
      `${program} is not installed: install the Debian package ${debianPackage} ` +
        `(apt-get install ${debianPackage}; .ci/run does it when it is missing)`
    )
  )

/** What a finished tool gave. */
export interface ToolResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A tool started in the background: whether it still runs, and its end. */
export interface Started {
  readonly running: Effect.Effect<boolean>
  readonly exit: Effect.Effect<ToolResult>
}

/**
 * Starts a command line under `timeout -k 5 <seconds>`, in its own process group (`timeout` and the tool), which is
 * killed by its PID if the scope closes first.
 */
export const startTool = (
  command: MediaCommands.CommandLine,
  seconds: number
): Effect.Effect<Started, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<ToolResult>()
    let stdout = ""
    let stderr = ""
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn("timeout", ["-k", "5", String(seconds), command.program, ...command.args], {
          detached: true,
          stdio: ["ignore", "pipe", "pipe"]
        })
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-100_000)))
        child.once("close", (code) => Deferred.unsafeDone(exited, Exit.succeed({ code, stdout, stderr })))
        return child
      }),
      (child) =>
        Effect.sync(() => {
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
            process.kill(-child.pid, "SIGKILL")
          }
        })
    )
    return { running: Effect.map(Deferred.isDone(exited), (done) => !done), exit: Deferred.await(exited) }
  })

/** Runs a command line under `timeout -k 5 <seconds>` to its end. */
export const runTool = (command: MediaCommands.CommandLine, seconds: number): Effect.Effect<ToolResult> =>
  Effect.scoped(Effect.flatMap(startTool(command, seconds), (started) => started.exit))

/** A loopback stack: an emulator whose pools are a media node that asks it about every publish. */
export const stack = (options: { readonly publishWindow?: Duration.DurationInput } = {}) =>
  Effect.gen(function*() {
    yield* requireTool("ffmpeg", "ffmpeg")
    yield* requireTool("ffprobe", "ffmpeg")
    const port = yield* MediaNode.freePort()
    const node = { host: "127.0.0.1", port, app: "live" }
    const emulator = yield* Effect.locally(
      Emulator.make({
        apps: [Emulator.demoApp],
        nodes: { push: [node], pull: [node] },
        rateLimit: false,
        publishWindow: options.publishWindow
      }),
      FiberRef.currentMinimumLogLevel,
      LogLevel.Warning
    )
    const media = yield* MediaNode.make({ port, onPublish: emulator.onPublishUrl, startTimeout: WAIT_MILLIS })
    const env = {
      ZEGO_APP_ID: String(Emulator.demoApp.appId),
      ZEGO_SERVER_SECRET: Redacted.value(Emulator.demoApp.serverSecret),
      ZEGO_BASE_URL: emulator.baseUrl
    }
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "zego-e2e-"))),
      (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
    )
    return { emulator, media, env, folder }
  })

/** `zego-rtmp dispatch --type <type> --stream-id <stream> --json`: its one node. */
export const dispatchJson = (env: Record<string, string>, type: "push" | "pull", stream: string) =>
  Effect.gen(function*() {
    const result = yield* Bin.run(["dispatch", "--type", type, "--stream-id", stream, "--json"], { env })
    assert.strictEqual(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as Output.DispatchJson
    assert.lengthOf(json.nodes, 1)
    return json.nodes[0] as Output.NodeJson
  })

/** The URL OBS publishes to from its two fields: the Server, then the Stream key (the Server ends with `/`). */
export const obsUrl = (node: Output.NodeJson): string => `${node.obsServer}${node.obsStreamKey}`
