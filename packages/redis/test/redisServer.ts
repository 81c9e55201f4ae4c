/**
 * A redis-server of the test's own on 127.0.0.1 (no persistence), so a test can stop it and start it again, or
 * pause it (SIGSTOP: it holds its connections and reads nothing, as in a long fork or a VM stall); stopped by
 * its PID with the scope.
 */
import { MediaNode } from "@effect-zego/emulator"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops the server (SIGKILL: as abrupt as a crash). */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port. */
  readonly start: Effect.Effect<void>
  /** Freezes it (SIGSTOP): connections stay open, commands wait unread until {@link resume}. */
  readonly pause: Effect.Effect<void>
  /** Lets a paused server run again (SIGCONT): it then runs what its clients sent meanwhile, in order. */
  readonly resume: Effect.Effect<void>
}

/** A free port for a server started next (see `MediaNode.freePort`: none an outgoing connection may take meanwhile). */
export const freePort = Effect.orDie(MediaNode.freePort())

const launch = (port: number) =>
  Effect.async<ChildProcess, Error>((resume) => {
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    const timer = setTimeout(() => resume(Effect.fail(new Error(`redis-server did not start: ${output}`))), 10_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer)
        resume(Effect.succeed(child))
      }
    })
    child.on("error", (error) => {
      clearTimeout(timer)
      resume(
        Effect.fail(new Error(`cannot run redis-server (install it: apt-get install redis-server): ${error.message}`))
      )
    })
  })

const kill = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

export const startRedis: Effect.Effect<RedisServer, Error, Scope.Scope> = Effect.gen(function*() {
  const port = yield* freePort
  let current = yield* launch(port)
  // SIGKILL ends a stopped process too, but a paused server is let go first so the kill is seen at once.
  yield* Effect.addFinalizer(() => Effect.zipRight(Effect.sync(() => current.kill("SIGCONT")), kill(current)))
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: Effect.suspend(() => kill(current)),
    start: Effect.flatMap(Effect.orDie(Effect.suspend(() => launch(port))), (child) =>
      Effect.sync(() => {
        current = child
      })),
    pause: Effect.sync(() => void current.kill("SIGSTOP")),
    resume: Effect.sync(() => void current.kill("SIGCONT"))
  }
})
