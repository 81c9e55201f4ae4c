/**
 * The stream actions end to end in process: the core's services through the node layer (`NodeZego`) against the
 * emulator over real HTTP on loopback. The two halves were written apart; this shows they agree on the parameters,
 * the signature, the Sequence rule, the time units and the codes.
 */
import { RoomStreams, StreamControl, StreamState } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeZego } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { figures, save } from "./figures.js"

afterAll(() => save("stream-actions"))

const app = Emulator.demoApp

describe("stream actions, client and emulator", () => {
  it.live(
    "state follows a publish; forbid refuses it and resume lifts that; a room announce is recorded",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apps: [app], rooms: ["match-room"] })
        const context = yield* Layer.build(NodeZego.layerOptions({ ...app, baseUrl: emulator.baseUrl }))
        const state = Context.get(context, StreamState.StreamState)
        const control = Context.get(context, StreamControl.StreamControl)
        const rooms = Context.get(context, RoomStreams.RoomStreams)
        const before = Date.now()

        const unknown = yield* Effect.flip(state.describe("never-published"))
        assert.strictEqual(unknown._tag, "StreamNotFoundError")

        assert.isTrue((yield* emulator.publish("match-42")).allowed)
        const active = yield* state.describe("match-42")
        assert.strictEqual(active.state, "active")
        // Seconds on the wire: the time read back is within a few seconds of when the publish began.
        assert.isAtLeast(active.createdAt.getTime(), Math.floor(before / 1000) * 1000)
        assert.isAtMost(active.createdAt.getTime(), Date.now() + 1000)

        yield* control.forbid("match-42")
        yield* emulator.unpublish("match-42")
        const closed = yield* state.describe("match-42")
        assert.strictEqual(closed.state, "closed")
        if (closed.state === "closed") assert.isAtLeast(closed.closedAt.getTime(), closed.createdAt.getTime())
        assert.isFalse((yield* emulator.publish("match-42")).allowed, "a forbidden stream id cannot publish")
        yield* control.resume("match-42")
        assert.isTrue((yield* emulator.publish("match-42")).allowed, "resumed")

        yield* rooms.announce({ roomId: "match-room", streamId: "match-42", title: "Final" })
        assert.deepStrictEqual((yield* emulator.announced).map((a) => a.streamId), ["match-42"])
        yield* rooms.withdraw({ roomId: "match-room", streamId: "match-42" })
        assert.lengthOf(yield* emulator.announced, 0)
        const again = yield* Effect.flip(rooms.withdraw({ roomId: "match-room", streamId: "match-42" }))
        assert.strictEqual(again._tag, "StreamInfoNotFoundError")

        // Many calls on one stream id in a burst: the process's Sequence keeps increasing for it.
        yield* Effect.forEach(Array.from({ length: 20 }, () => 0), () => state.describe("match-42"), { discard: true })
        figures.requests += (yield* emulator.requests).length
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )
})
