/**
 * What the end-to-end tests of the README's app share: child processes in their own group (killed with the scope),
 * a poll with a deadline, a fetch of JSON, and ffmpeg publishing as OBS would. Every wait only guards against a hang,
 * sized for a machine ten times slower; the outcomes are asserted from what the parts did.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { spawn, spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const WAIT_MILLIS = 60_000

/** The bundled app (the global setup builds it). */
export const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../build/run/obsLive.mjs")

export const requireTool = (program: string, debianPackage: string) =>
  Effect.sync(() => spawnSync(program, ["-version"], { stdio: "ignore" })).pipe(
    Effect.filterOrDieMessage(
      (result) => result.error === undefined,
      `${program} is not installed: install the Debian package ${debianPackage} (.ci/run does it when it is missing)`
    )
  )

/** A child process of {@link start}. */
export interface Child {
  /** Its stdout and stderr together, the last 100 000 characters. */
  readonly output: () => string
  /** Signals its process group. */
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<boolean>
  /** Its exit code (`null` when a signal ended it). */
  readonly exit: Effect.Effect<number | null>
  /** Whether it has ended. */
  readonly ended: Effect.Effect<boolean>
}

/** A child process in its own group, killed with the scope; its output, and a way to signal it. */
export const start = (program: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<number | null>()
    let output = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(program, args, {
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }
        })
        const keep = (chunk: string) => (output = (output + chunk).slice(-100_000))
        child.stdout.setEncoding("utf8").on("data", keep)
        child.stderr.setEncoding("utf8").on("data", keep)
        child.once("close", (code) => Deferred.unsafeDone(exited, Exit.succeed(code)))
        return child
      }),
      (child) =>
        Effect.sync(() => {
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
            process.kill(-child.pid, "SIGKILL")
          }
        })
    )
    const started: Child = {
      output: () => output,
      signal: (signal) => Effect.sync(() => child.pid !== undefined && process.kill(-child.pid, signal)),
      exit: Deferred.await(exited),
      ended: Deferred.isDone(exited)
    }
    return started
  })

/** Polls `check` every 50 ms until it gives a value; dies naming `what` after {@link WAIT_MILLIS}. */
export const eventually = <A>(what: string, check: Effect.Effect<A | undefined>) =>
  Effect.gen(function*() {
    const deadline = Date.now() + WAIT_MILLIS
    for (;;) {
      const value = yield* check
      if (value !== undefined) return value
      if (Date.now() > deadline) return yield* Effect.dieMessage(`gave up waiting for ${what}`)
      yield* Effect.sleep("50 millis")
    }
  })

/**
 * Waits until `child` logs that it listens. A child that ends first, or that is still silent at the deadline, fails
 * the test with the end of its output (quoted: it is a child's text).
 */
export const untilListening = (child: Child, what: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + WAIT_MILLIS
    for (;;) {
      if (/Listening on/.test(child.output())) return
      const ended = yield* child.ended
      if (ended || Date.now() > deadline) {
        const tail = JSON.stringify(child.output().slice(-2000))
        return yield* Effect.dieMessage(
          `${what} ${ended ? "ended" : "did not listen in time"}; its output ends ${tail}`
        )
      }
      yield* Effect.sleep("50 millis")
    }
  })

export const http = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, json: (await response.json()) as Record<string, string> }
  })

/** ffmpeg publishing a test pattern to `url` as OBS would (H.264 and AAC over RTMP), until stopped. */
export const publish = (url: string) =>
  start("timeout", [
    "-k",
    "5",
    "120",
    "ffmpeg",
    "-hide_banner",
    "-nostdin",
    "-re",
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=25",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-g",
    "25",
    "-c:a",
    "aac",
    "-f",
    "flv",
    url
  ])

/** Stops a publisher as OBS's "Stop Streaming" would, and waits for it to exit. */
export const stopPublishing = (publisher: Child) => Effect.zipRight(publisher.signal("SIGINT"), publisher.exit)
