/**
 * The stream actions end to end in process: the core's services through the node layer (`NodeZego`) against the
 * emulator over real HTTP on loopback. The two halves were written apart; this shows they agree on the parameters,
 * the signature, the Sequence rule, the time units and the codes; and that a retry after an answer lost on the way
 * back (the action applied) succeeds.
 */
import { RoomStreams, StreamControl, StreamState } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeZego } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Http from "node:http"
import { figures, held, save } from "./figures.js"
import { query, serve } from "./loopbackServer.js"

afterAll(() => save("stream-actions"))

const app = Emulator.demoApp

/** What the proxy does to the first call for a stream id: answers 502, or nothing, once the emulator applied it. */
type Lost = "502" | "silence"

/**
 * A proxy on loopback in front of the emulator. It passes the calls on one at a time, in the order they came, so the
 * emulator has applied an attempt before its retry reaches it; the first call for a stream id in `lose` is applied
 * but its answer is lost. It records the `StreamId` and `Sequence` of each call.
 */
const lossyProxy = (
  target: string,
  lose: Map<string, Lost>,
  sent: Array<{ readonly streamId: string; readonly sequence: string }>
) => {
  let queue: Promise<unknown> = Promise.resolve()
  return serve((req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const params = query(req)
    const streamId = params.get("StreamId") ?? ""
    sent.push({ streamId, sequence: params.get("Sequence") ?? "" })
    const lost = lose.get(streamId)
    lose.delete(streamId)
    queue = queue.then(async () => {
      const answer = await fetch(target + (req.url ?? "/"))
      const body = await answer.text()
      if (lost === "502") res.writeHead(502, { "content-type": "text/html" }).end("<html>502 Bad Gateway</html>")
      else if (lost === undefined) res.writeHead(answer.status, { "content-type": "application/json" }).end(body)
      // "silence": never answered; the client's time limit ends the attempt, the scope closes the connection.
    }).catch(() => void res.destroy())
  })
}

describe("stream actions, client and emulator", () => {
  it.live(
    "state follows a publish; forbid refuses it and resume lifts that; a room announce is recorded, withdrawn by its user only",
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
        // Another user withdrawing it: the emulator's 1012, a typed conflict rather than an unknown code.
        const someoneElse = yield* Effect.flip(
          rooms.withdraw({ roomId: "match-room", streamId: "match-42", userId: "host-7" })
        )
        assert.strictEqual(someoneElse._tag, "StreamConflictError")
        assert.lengthOf(yield* emulator.announced, 1)
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

  it.live(
    "in the test environment a room's list gives the stream ids as announce answers them, each with one prefix",
    () =>
      Effect.gen(function*() {
        const testApp = Emulator.demoTestApp
        const emulator = yield* Emulator.make({ apps: [testApp], rooms: ["match-room"] })
        const context = yield* Layer.build(NodeZego.layerOptions({ ...testApp, baseUrl: emulator.baseUrl }))
        const rooms = Context.get(context, RoomStreams.RoomStreams)
        const announced = yield* rooms.announce({ roomId: "match-room", streamId: "match-42" })
        assert.strictEqual(announced.streamId, `zegotest-${testApp.appId}-match-42`)
        const { streams } = yield* rooms.list("match-room")
        assert.deepStrictEqual(streams.map((stream) => stream.streamId), [announced.streamId])
        // Read back and passed to withdraw as it is: the emulator finds the one announced.
        yield* rooms.withdraw({ roomId: "match-room", streamId: streams[0]!.streamId })
        assert.lengthOf(yield* emulator.announced, 0)
        figures.requests += (yield* emulator.requests).length
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "a forbid applied but answered 502, or not at all, is retried with a higher Sequence and succeeds",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apps: [app] })
        const lose = new Map<string, Lost>([["seq-502", "502"], ["seq-silent", "silence"], ["seq-own", "502"]])
        const sent: Array<{ readonly streamId: string; readonly sequence: string }> = []
        const baseUrl = yield* lossyProxy(emulator.baseUrl, lose, sent)
        const context = yield* Layer.build(
          NodeZego.layerOptions({ ...app, baseUrl, timeout: "500 millis", retry: Schedule.recurs(2) })
        )
        const control = Context.get(context, StreamControl.StreamControl)
        const own = 1_700_000_000_000

        yield* control.forbid("seq-502")
        yield* control.forbid("seq-silent")
        yield* control.forbid("seq-own", { sequence: own })

        // Each first attempt was applied (Code 0), and so was its retry, instead of a 1006 for a repeated Sequence.
        const ids = ["seq-502", "seq-silent", "seq-own"]
        const codes = (yield* emulator.requests).map((r) => `${r.streamId} ${r.code}`)
        assert.deepStrictEqual(codes, ids.flatMap((id) => [`${id} 0`, `${id} 0`]))
        for (const id of ids) {
          assert.isFalse((yield* emulator.publish(id)).allowed, `${id} is forbidden`)
        }
        const sequences = (id: string) =>
          sent.filter((call) => call.streamId === id).map((call) => BigInt(call.sequence))
        for (const id of ["seq-502", "seq-silent"]) {
          const [first, retry] = sequences(id)
          assert.isTrue(first! < retry!, `${id}: ${sequences(id)}`)
        }
        // The caller's Sequence goes first; the retry sends the number just above it.
        assert.deepStrictEqual(sequences("seq-own"), [BigInt(own), BigInt(own) + 1n])
        figures.faults += 3
        figures.requests += sent.length
        held("stream-action-sequence-retry")
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )
})
