/**
 * The Sequence rule of the stream actions (strictly increasing per StreamId within any 10 seconds) against a model
 * that keeps every accepted call, and the stream model's bounds.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import * as Sequences from "../src/internal/sequences.js"
import * as Streams from "../src/internal/streams.js"

const call = FastCheck.record({
  key: FastCheck.constantFrom("a", "b"),
  sequence: FastCheck.bigInt({ min: 0n, max: 20n }),
  gap: FastCheck.integer({ min: 0, max: 6000 })
})

describe("Sequences", () => {
  it.prop("accepts a call exactly when every accepted call of its key less than 10 s before has a smaller Sequence", [
    FastCheck.array(call, { maxLength: 60 })
  ], ([calls]) => {
    const sequences = Sequences.make()
    const accepted: Array<{ key: string; sequence: bigint; at: number }> = []
    let now = 0
    for (const { gap, key, sequence } of calls) {
      now += gap
      const expected = accepted.every((prior) =>
        prior.key !== key || now - prior.at >= Sequences.WINDOW_MILLIS || prior.sequence < sequence
      )
      assert.strictEqual(sequences.accept(key, sequence, now), expected)
      if (expected) accepted.push({ key, sequence, at: now })
    }
  })

  it("keeps at most its capacity", () => {
    const sequences = Sequences.make(10_000, 2)
    for (const key of ["a", "b", "c"]) assert.isTrue(sequences.accept(key, 5n, 0))
    assert.isTrue(sequences.accept("a", 1n, 1), "a was dropped past the capacity")
    assert.isFalse(sequences.accept("c", 1n, 1))
  })
})

describe("Streams", () => {
  it("refuses a publish past its capacity of live streams and keeps at most that many closed ones", () => {
    const streams = Streams.make(60_000, 2)
    assert.isTrue(streams.publish("a", "rtmp", 0).allowed)
    assert.isTrue(streams.publish("b", "simulated", 0).allowed)
    assert.isFalse(streams.publish("c", "rtmp", 0).allowed)
    assert.isTrue(streams.publish("a", "simulated", 0).allowed, "another publisher of a live stream")
    for (const id of ["a", "b"]) {
      streams.publishDone(id, "rtmp", 1)
      streams.publishDone(id, "simulated", 1)
    }
    for (const id of ["c", "d"]) {
      streams.publish(id, "rtmp", 2)
      streams.publishDone(id, "rtmp", 3)
    }
    assert.isUndefined(streams.state("a", 3), "the oldest closed stream went first")
    assert.deepStrictEqual(streams.state("d", 3), { _tag: "Closed", createdAt: 2, closedAt: 3 })
  })
})
