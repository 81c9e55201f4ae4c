// The action table is the one place an action's facts are written: what the errors, the engine and the mock read
// is what its rows say.
import { Actions, Params, ZegoError } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"

describe("Actions.table", () => {
  it("every code of every row maps to the error its row names, with its retry decision", () => {
    for (const action of Actions.names) {
      for (const [code, { error, retryable }] of Object.entries(Actions.row(action).codes)) {
        const made = ZegoError.fromCode({ code: Number(code), serverMessage: "", requestId: "r", action })
        assert.strictEqual(made._tag, error, `${action} ${code}`)
        assert.strictEqual(ZegoError.isRetryable(made), retryable, `${action} ${code}`)
      }
    }
  })

  it("the Action literal is the table's names, and a row's answers are not its errors", () => {
    assert.deepStrictEqual([...Params.Action.literals], [...Actions.names])
    for (const action of Actions.names) {
      for (const code of Actions.row(action).answers) assert.notProperty(Actions.row(action).codes, String(code))
    }
  })

  it("a code means one thing wherever the table lists it (the emulator answers that meaning as its message)", () => {
    const meanings = new Map<string, Set<string>>()
    for (const action of Actions.names) {
      for (const [code, { meaning }] of Object.entries(Actions.row(action).codes)) {
        meanings.set(code, (meanings.get(code) ?? new Set()).add(meaning))
      }
    }
    assert.isAbove(meanings.size, 10)
    for (const [code, set] of meanings) assert.strictEqual(set.size, 1, `${code}: ${[...set].join(" | ")}`)
  })

  it("a rate-limited error's hint is the row's limit", () => {
    for (const action of Actions.names) {
      const error = ZegoError.fromCode({ code: 1010, serverMessage: "", requestId: "r", action })
      assert.include(error.message, `${Actions.row(action).limit.production} `)
    }
  })

  it("a missing room (104, 5024, 50001) is a RoomNotFoundError from AddStream and DeleteStream, never a support case", () => {
    for (const action of ["AddStream", "DeleteStream"] as const) {
      for (const code of [104, 5024, 50001]) {
        const error = ZegoError.fromCode({ code, serverMessage: "room not exist", requestId: "r", action })
        assert.instanceOf(error, ZegoError.RoomNotFoundError, `${action} ${code}`)
        assert.isFalse(error.retryable)
        assert.include(error.message, "The room must exist: AddStream cannot create one")
        assert.include(error.message, "--room")
        assert.notInclude(error.message, "contact ZEGOCLOUD support")
      }
      // The room signalling table's "too frequent" codes, as DescribeSimpleStreamList has them.
      for (const code of [206, 207]) {
        const error = ZegoError.fromCode({ code, serverMessage: "", requestId: "r", action })
        assert.deepStrictEqual([error._tag, error.retryable], ["RateLimitedError", true], `${action} ${code}`)
      }
    }
  })

  it("isName takes the table's names only", () => {
    assert.isTrue(Actions.isName("RTMPDispatchV2"))
    for (const other of ["toString", "__proto__", "rtmpdispatchv2", 1]) assert.isFalse(Actions.isName(other))
  })
})
