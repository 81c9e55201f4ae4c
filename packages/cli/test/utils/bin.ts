/**
 * Runs the built `zego-rtmp` (packages/cli/dist/bin.js) as a child process with a controlled environment: the
 * inherited `ZEGO_*` variables are removed, the test's own are added.
 */
import { Emulator } from "@effect-zego/emulator"
import type { EmulatorError } from "@effect-zego/emulator"
import { assert } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The built executable. */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/bin.js")

/** What a finished run gave. */
export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * How long a run may take before it is killed, and a line may take to show. A run takes about a second of CPU on
 * an idle machine (most of it loading modules), a dispatch through the retries a few seconds; the limits are for a
 * machine ten times slower, with other tests spawning beside it. Only guards against a hang: every outcome is
 * asserted from what the process did.
 */
export const RUN_TIMEOUT = Duration.seconds(60)

/** The parent's environment without any `ZEGO_*` variable, plus `env`. */
export const environment = (env: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const clean: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("ZEGO_") && key !== "NODE_OPTIONS") clean[key] = value
  }
  return { ...clean, NO_COLOR: "1", ...env }
}

const start = (args: ReadonlyArray<string>, env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [BIN, ...args], { env: environment(env), stdio: ["ignore", "pipe", "pipe"] })

const collect = (child: ChildProcess) => {
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exit: Effect.async<Result>((resume) => {
      child.once("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    })
  }
}

/** Runs `zego-rtmp args…` to its end (killed after `timeout`). */
export const run = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly timeout?: Duration.DurationInput } = {}
): Effect.Effect<Result> =>
  Effect.acquireUseRelease(
    Effect.sync(() => start(args, options.env ?? {})),
    (child) =>
      collect(child).exit.pipe(
        Effect.timeoutFail({
          duration: options.timeout ?? RUN_TIMEOUT,
          onTimeout: () => new Error(`zego-rtmp ${args.join(" ")} did not finish in time`)
        }),
        Effect.orDie
      ),
    (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

/** A long-running `zego-rtmp` child: its output so far, a line to wait for, a signal to send, its end. */
export interface Running {
  readonly child: ChildProcess
  readonly stdout: Effect.Effect<string>
  readonly stderr: Effect.Effect<string>
  /** Waits until stdout has a line matching `pattern` and gives the match. */
  readonly waitFor: (pattern: RegExp) => Effect.Effect<RegExpExecArray>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  readonly exit: Effect.Effect<Result>
}

/** Starts `zego-rtmp args…` in the background; it is killed when the scope closes if still running. */
export const spawnBin = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string> } = {}
): Effect.Effect<Running, never, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => start(args, options.env ?? {})),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    const output = collect(child)
    const exited = yield* Deferred.make<Result>()
    yield* Effect.forkScoped(Effect.flatMap(output.exit, (result) => Deferred.succeed(exited, result)))
    const waitFor = (pattern: RegExp): Effect.Effect<RegExpExecArray> =>
      Effect.suspend(() => {
        const match = pattern.exec(output.stdout())
        if (match !== null) return Effect.succeed(match)
        return Deferred.isDone(exited).pipe(
          Effect.flatMap((done) =>
            done
              ? Effect.dieMessage(`exited before printing ${pattern}: ${output.stdout()} ${output.stderr()}`)
              : Effect.sleep("20 millis").pipe(Effect.zipRight(waitFor(pattern)))
          )
        )
      }).pipe(
        Effect.timeoutFail({
          duration: RUN_TIMEOUT,
          onTimeout: () => new Error(`no ${pattern} in ${output.stdout()} / ${output.stderr()}`)
        }),
        Effect.orDie
      )
    return {
      child,
      stdout: Effect.sync(output.stdout),
      stderr: Effect.sync(output.stderr),
      waitFor,
      kill: (signal) => Effect.sync(() => void child.kill(signal)),
      exit: Deferred.await(exited)
    }
  })

/** The non-empty lines of a text. */
export const lines = (text: string): ReadonlyArray<string> => text.split("\n").filter((line) => line.trim() !== "")

/** Whether a text holds a secret, whole or its first half (a secret must never show, not even in part). */
export const leaks = (text: string, secret: string): boolean =>
  text.includes(secret) || text.includes(secret.slice(0, Math.ceil(secret.length / 2)))

/** An emulator in the test process, its request logs silenced. */
export const emulatorLayer = (
  options: Emulator.Options
): Layer.Layer<Emulator.Emulator, EmulatorError.EmulatorError> =>
  Emulator.layer(options).pipe(Layer.locally(FiberRef.currentMinimumLogLevel, LogLevel.Warning))

/** The variables that point the bin at `emulator`, with `app`'s credentials. */
export const credentialsFor = (emulator: Emulator.Service, app: Emulator.AppConfig): Record<string, string> => ({
  ZEGO_APP_ID: String(app.appId),
  ZEGO_SERVER_SECRET: Redacted.value(app.serverSecret),
  ZEGO_BASE_URL: emulator.baseUrl
})

/** Runs `zego-rtmp args…` with `env`, asserting that it succeeds, says nothing on stderr and leaks no `secret`. */
export const runOk = (args: ReadonlyArray<string>, env: Record<string, string>, secret: string) =>
  Effect.tap(run(args, { env }), (result) => {
    assert.strictEqual(result.code, 0, result.stderr)
    assert.strictEqual(result.stderr, "")
    assert.isFalse(leaks(result.stdout, secret))
  })
