/**
 * What every runtime's test shares: an emulator on loopback, the bundled program, running it as a child process,
 * and the check that a real node came back from exactly one call the emulator answered.
 */
import { Emulator, type EmulatorError } from "@effect-zego/emulator"
import { assert } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Input, Output } from "../src/dispatch.js"

/** The bundles of scripts/bundle.mjs. */
export const bundles = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../build/run")

export const app: Emulator.AppConfig = {
  appId: 100001,
  serverSecret: Redacted.make("9193cc662a4c0ec135ec71fb57194b38")
}

/** Runs `self` against an emulator (its request logs silenced). */
export const withEmulator = (options: Partial<Emulator.Options> = {}) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | EmulatorError.InvalidOptionsError | EmulatorError.StartError, Exclude<R, Emulator.Emulator>> =>
  Effect.provide(
    self,
    Emulator.layer({ apps: [app], ...options }).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.None)))
  )

/**
 * Has `run` dispatch `streamId` against the emulator, then checks what came back: a node for `streamId` that the
 * emulator handed out, from exactly one call it answered with Code 0 (no retry, no stray request).
 */
export const dispatchesOnce = (streamId: string, run: (input: Input) => Promise<Output>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const output = yield* Effect.promise(() =>
      run({ appId: app.appId, serverSecret: Redacted.value(app.serverSecret), baseUrl: emulator.baseUrl, streamId })
    )
    if (output._tag === "Failed") assert.fail(`the dispatch failed: ${output.error}`)
    const dispatched = yield* emulator.dispatched
    assert.deepStrictEqual(dispatched.map((record) => [record.requestId, record.streamId, record.node]), [
      [output.requestId, streamId, `rtmp://127.0.0.1:1935/live/${streamId}`]
    ])
    assert.deepStrictEqual(output.urls, [`rtmp://127.0.0.1:1935/live/${streamId}`])
    const requests = yield* emulator.requests
    assert.deepStrictEqual(requests.map((request) => [request.requestId, request.streamId, request.code]), [
      [output.requestId, streamId, 0]
    ])
  })

/**
 * Runs a runtime's binary with the program's input as its last argument; its stdout is the output. A runtime that
 * fails or cannot start fails the test with what it printed (and how to get it).
 */
export const runProgram = (
  binary: string,
  args: ReadonlyArray<string>,
  options: { readonly needs: string; readonly env?: Record<string, string> }
) =>
(input: Input) =>
  new Promise<Output>((resolve, reject) => {
    const env = { ...process.env, ...options.env }
    // A hang guard only: each runtime answers in a second or two.
    execFile(binary, [...args, JSON.stringify(input)], { timeout: 90_000, env }, (error, stdout, stderr) => {
      if (error !== null) {
        return reject(
          new Error(`${binary} ${args.join(" ")} failed (it needs ${options.needs}): ${error.message}\n${stderr}`)
        )
      }
      resolve(JSON.parse(stdout) as Output)
    })
  })
