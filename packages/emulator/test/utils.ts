/**
 * Shared test helpers: apps, an emulator per test with its logs silenced, the node client against it, and raw
 * signed HTTP calls (for what the client would refuse to send).
 */
import type { RtmpDispatch, ZegoError } from "@effect-zego/core"
import { RtmpDispatch as Dispatch, Signature } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"

export const prodApp: Emulator.AppConfig = {
  appId: 100001,
  serverSecret: Redacted.make("9193cc662a4c0ec135ec71fb57194b38")
}

export const testApp: Emulator.AppConfig = {
  appId: 100002,
  serverSecret: Redacted.make("0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
  isTest: true
}

export const baseOptions: Emulator.Options = { apps: [prodApp, testApp], rateLimit: false }

/** An emulator with its request logs silenced. */
export const EmulatorQuiet = (options: Emulator.Options = baseOptions) =>
  Emulator.layer(options).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.None)))

/** Runs `self` against an emulator started for it, its request logs silenced. */
export const withEmulator = (options: Emulator.Options = baseOptions) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.provide(self, EmulatorQuiet(options))

/**
 * Runs `f` with the node `RtmpDispatch` layer pointed at the emulator: no retry, no client limiter by default. The
 * default per-attempt timeout is far beyond any loopback latency, so that only a test that sets a short one (against
 * a delay fault) ever sees a timeout, however slow the machine.
 */
export const withClient = <A, E, R>(
  app: Emulator.AppConfig,
  f: (dispatch: RtmpDispatch.Service) => Effect.Effect<A, E, R>,
  options?: Partial<RtmpDispatch.Options>
): Effect.Effect<A, E | ZegoError.InvalidRequestError, R | Emulator.Emulator> =>
  Effect.gen(function*() {
    const { baseUrl } = yield* Emulator.Emulator
    return yield* Effect.flatMap(Dispatch.RtmpDispatch, f).pipe(
      Effect.provide(NodeRtmpDispatch.layerOptions({
        appId: app.appId,
        serverSecret: app.serverSecret,
        baseUrl,
        isTest: app.isTest,
        retry: Schedule.stop,
        rateLimit: false,
        timeout: "60 seconds",
        ...options
      }))
    )
  })

/** A well-formed signed query for `app` (a V2 push of `stream`), with `overrides` applied (`undefined` removes). */
export const signedParams = (
  app: Emulator.AppConfig,
  overrides: Record<string, string | undefined> = {},
  options?: { readonly timestamp?: number; readonly nonce?: string }
) =>
  Effect.gen(function*() {
    const nonce = options?.nonce ?? (yield* Signature.makeNonce)
    const timestamp = options?.timestamp ?? Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const params: Record<string, string | undefined> = {
      Action: "RTMPDispatchV2",
      StreamId: app.isTest ? `zegotest-${app.appId}-stream` : "stream",
      Sequence: "1",
      Type: "push",
      AppId: String(app.appId),
      SignatureNonce: nonce,
      Timestamp: String(timestamp),
      SignatureVersion: "2.0",
      Signature: Signature.sign({ appId: app.appId, nonce, serverSecret: app.serverSecret, timestamp }),
      ...(app.isTest ? { IsTest: "true" } : {}),
      ...overrides
    }
    return Object.fromEntries(
      Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)
    )
  })

/** What a raw call got back. */
export interface RawAnswer {
  readonly status: number
  readonly headers: Headers
  readonly body: {
    readonly Code: number
    readonly Message: string
    readonly RequestId: string
    readonly Data?: unknown
  }
}

/** A GET to the emulator with exactly these query parameters. */
export const rawCall = (params: Record<string, string>) =>
  Effect.gen(function*() {
    const { baseUrl } = yield* Emulator.Emulator
    return yield* Effect.promise(async (): Promise<RawAnswer> => {
      const response = await fetch(`${baseUrl}/?${new URLSearchParams(params)}`)
      return { status: response.status, headers: response.headers, body: await response.json() }
    })
  })

/** The code a raw call answers for `app` with `overrides`. */
export const rawCode = (app: Emulator.AppConfig, overrides: Record<string, string | undefined> = {}) =>
  Effect.map(Effect.flatMap(signedParams(app, overrides), rawCall), (answer) => answer.body.Code)
