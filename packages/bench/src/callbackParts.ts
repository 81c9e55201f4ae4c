/**
 * Where a callback's server time goes, in the bench's process: the floor's raw work (`JSON.parse`, SHA-1 of the
 * sorted secret, timestamp and nonce, two `Map` inserts) against `CallbackReceiver.receive` (parse, verify, claim
 * the nonce, decode), then with its `commit`, then with the tracker's `apply` too (in memory), each over the same
 * signed bodies in one fiber, in interleaved rounds (medians). What the HTTP server adds is the same for both.
 */
import { CallbackReceiver, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import { callbackBodies } from "./httpShared.js"
import { median, round } from "./stats.js"

export interface Parts {
  /** Microseconds per callback, median over rounds. */
  readonly floorMicros: number
  readonly receiveMicros: number
  readonly receiveCommitMicros: number
  readonly receiveApplyCommitMicros: number
}

export const run = async (options: { readonly rounds: number; readonly callbacks: number }): Promise<Parts> => {
  const secret = randomBytes(16).toString("hex")
  const runtime = ManagedRuntime.make(
    StreamTracker.layer().pipe(
      Layer.provide(ZegoMock.layerServices({ appId: 1540531164, serverSecret: Redacted.make("unused") }))
    )
  )
  try {
    const tracker = await runtime.runPromise(StreamTracker.StreamTracker)
    // Sized so that no round fills it: the store's refusal is not what is measured.
    const receiver = await runtime.runPromise(
      CallbackReceiver.makeReceiver({ secret: Redacted.make(secret), rate: 100_000 })
    )
    const nonces = new Map<string, number>()
    const states = new Map<string, unknown>()
    const encoder = new TextEncoder()
    const decoder = new TextDecoder()
    const floor = (body: Uint8Array) =>
      Effect.sync(() => {
        const fields = JSON.parse(decoder.decode(body)) as Record<string, string>
        const expected = createHash("sha1").update([secret, fields.timestamp!, fields.nonce!].sort().join(""))
          .digest("hex")
        if (expected !== fields.signature) throw new Error("the floor's signature check failed")
        nonces.set(fields.nonce!, Number(fields.timestamp))
        states.set(fields.stream_id!, fields)
      })
    const variants: Array<[keyof Parts, (body: Uint8Array) => Effect.Effect<unknown, unknown>]> = [
      ["floorMicros", floor],
      ["receiveMicros", (body) => receiver.receive({ body })],
      ["receiveCommitMicros", (body) => Effect.flatMap(receiver.receive({ body }), receiver.commit)],
      [
        "receiveApplyCommitMicros",
        (body) =>
          Effect.flatMap(
            receiver.receive({ body }),
            (event) => Effect.zipRight(tracker.apply(event), receiver.commit(event))
          )
      ]
    ]
    const next = callbackBodies(secret)
    const figures = new Map<keyof Parts, Array<number>>()
    for (let r = 0; r < options.rounds + 1; r++) {
      for (let v = 0; v < variants.length; v++) {
        const [name, one] = variants[(v + r) % variants.length]!
        const bodies = Array.from({ length: options.callbacks }, () => encoder.encode(next()))
        globalThis.gc?.()
        const started = performance.now()
        await runtime.runPromise(Effect.forEach(bodies, one, { discard: true }))
        // The first round warms up.
        if (r > 0) figures.set(name, [...figures.get(name) ?? [], (performance.now() - started) * 1000 / bodies.length])
      }
    }
    const of = (name: keyof Parts) => round(median(figures.get(name) ?? []), 1)
    return {
      floorMicros: of("floorMicros"),
      receiveMicros: of("receiveMicros"),
      receiveCommitMicros: of("receiveCommitMicros"),
      receiveApplyCommitMicros: of("receiveApplyCommitMicros")
    }
  } finally {
    await runtime.dispose()
  }
}
