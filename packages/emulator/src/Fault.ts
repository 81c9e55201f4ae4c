/**
 * Fault injection: rules that make the emulator misbehave the way a real network or a troubled server does,
 * so that a client's error handling, retries and time limits can be tested.
 *
 * A rule says when it fires (the next `next` matching calls, with a `probability`, for stream ids matching a
 * pattern, for one AppId or action; all conditions together) and what happens instead of the normal answer.
 * Faults are applied before any check, as a network or a broken gateway would; the first rule that fires wins.
 *
 * @since 0.1.0
 */
import { Actions, Params } from "@effect-zego/core"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { DurationFromJson } from "./internal/duration.js"

/**
 * Answers this return code in the envelope, with HTTP 200, as the real server does. Code 0 answers no `Data`.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.CodeFault.make({ code: 1010 }), Fault.code(1010))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const CodeFault = Schema.TaggedStruct("Code", {
  code: Schema.Int,
  /** The envelope's `Message`; default: the emulator's text for the code. */
  message: Schema.optional(Schema.String)
}).annotations({ identifier: "CodeFault" })

/**
 * Waits this long, then answers normally (to test a client's time limit).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 * import * as Schema from "effect/Schema"
 *
 * const fault = Schema.decodeUnknownSync(Fault.DelayFault)({ _tag: "Delay", duration: "2 seconds" })
 * assert.strictEqual(Duration.toMillis(fault.duration), 2000)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DelayFault = Schema.TaggedStruct("Delay", {
  /** Milliseconds or a text duration (`"1 second"`) in a JSON file. */
  duration: DurationFromJson
}).annotations({ identifier: "DelayFault" })

/**
 * Answers an HTTP 5xx status without an envelope, as a proxy in front of the API would.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * assert.ok(Schema.is(Fault.HttpStatusFault)({ _tag: "HttpStatus", status: 503 }))
 * assert.ok(!Schema.is(Fault.HttpStatusFault)({ _tag: "HttpStatus", status: 404 }))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const HttpStatusFault = Schema.TaggedStruct("HttpStatus", {
  status: Schema.Int.pipe(Schema.between(500, 599, { message: () => "status must be an HTTP 5xx status" })),
  /** Default: a small HTML error page. */
  body: Schema.optional(Schema.String)
}).annotations({ identifier: "HttpStatusFault" })

/**
 * Answers HTTP 200 with a body that is not the envelope (default: truncated JSON).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.MalformedFault.make({ body: "{" }), Fault.malformed("{"))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const MalformedFault = Schema.TaggedStruct("Malformed", {
  body: Schema.optional(Schema.String)
}).annotations({ identifier: "MalformedFault" })

/**
 * Resets the connection: the socket is destroyed without an answer.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.ResetFault.make({}), Fault.reset)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResetFault = Schema.TaggedStruct("Reset", {}).annotations({ identifier: "ResetFault" })

/**
 * What a rule does instead of the normal answer.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * const fault = Schema.decodeUnknownSync(Fault.Fault)({ _tag: "HttpStatus", status: 502 })
 * assert.deepStrictEqual(fault, Fault.httpStatus(502))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fault = Schema.Union(CodeFault, DelayFault, HttpStatusFault, MalformedFault, ResetFault).annotations({
  identifier: "Fault"
})
/**
 * What a rule does instead of the normal answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

const RegExpSource = Schema.String.pipe(
  Schema.filter((source) => {
    try {
      new RegExp(source)
      return true
    } catch (error) {
      return `not a regular expression: ${error instanceof Error ? error.message : String(error)}`
    }
  })
)

/**
 * A rule: when it fires (every condition given must hold) and what it does.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * // As a JSON configuration file writes it: the next two dispatches of stream ids starting with "demo" time out.
 * const rule = Schema.decodeUnknownSync(Fault.FaultRule)({
 *   fault: { _tag: "Delay", duration: "10 seconds" },
 *   next: 2,
 *   streamId: "^demo",
 *   action: "RTMPDispatchV2"
 * })
 * assert.strictEqual(rule.next, 2)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FaultRule = Schema.Struct({
  fault: Fault,
  /** Fires for the next `next` calls that meet the other conditions, then is spent. Default: no limit. */
  next: Schema.optional(Schema.Int.pipe(Schema.positive({ message: () => "next must be a positive integer" }))),
  /** Fires with this probability (0 to 1) for each call that meets the other conditions. Default 1. */
  probability: Schema.optional(
    Schema.Number.pipe(Schema.between(0, 1, { message: () => "probability must be between 0 and 1" }))
  ),
  /** A regular expression the call's `StreamId` (as sent, empty when missing) must match. */
  streamId: Schema.optional(RegExpSource),
  /** Only calls with this `AppId`. */
  appId: Schema.optional(Params.AppId),
  /** Only calls of this action (any the emulator answers: the dispatch actions and the stream actions). */
  action: Schema.optional(Schema.Literal(...Actions.names))
}).annotations({ identifier: "FaultRule" })
/**
 * A rule: when it fires and what it does.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultRule = typeof FaultRule.Type

/**
 * A fault that answers `code` (and `message`) in the envelope.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.code(1010), { _tag: "Code", code: 1010 })
 * assert.deepStrictEqual(Fault.code(0, "ok"), { _tag: "Code", code: 0, message: "ok" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const code = (code: number, message?: string): Fault =>
  CodeFault.make(message === undefined ? { code } : { code, message })

/**
 * A fault that waits `duration`, then answers normally.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 *
 * const fault = Fault.delay("5 seconds")
 * assert.ok(fault._tag === "Delay" && Duration.toSeconds(fault.duration) === 5)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const delay = (duration: Duration.DurationInput): Fault =>
  DelayFault.make({ duration: Duration.decode(duration) })

/**
 * A fault that answers HTTP `status` (5xx) without an envelope.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.httpStatus(502), { _tag: "HttpStatus", status: 502 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpStatus = (status: number, body?: string): Fault =>
  HttpStatusFault.make(body === undefined ? { status } : { status, body })

/**
 * A fault that answers HTTP 200 with a body that is not the envelope.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.malformed(), { _tag: "Malformed" })
 * assert.deepStrictEqual(Fault.malformed("not json"), { _tag: "Malformed", body: "not json" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const malformed = (body?: string): Fault => MalformedFault.make(body === undefined ? {} : { body })

/**
 * A fault that resets the connection.
 *
 * @example
 * ```ts
 * import { Emulator, Fault } from "@effect-zego/emulator"
 *
 * const options: Emulator.Options = { apps: [Emulator.demoApp], faults: [{ fault: Fault.reset, next: 1 }] }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const reset: Fault = ResetFault.make({})

// ---------------------------------------------------------------------------------------------------------------
// Callback faults: what the emulator does to the server callbacks it sends (see `Emulator`'s `callbackUrl`).
// ---------------------------------------------------------------------------------------------------------------

/**
 * The callback is never sent (recorded as dropped), as when ZEGOCLOUD loses an event.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.CallbackDropFault.make({}), Fault.callbackDrop)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackDropFault = Schema.TaggedStruct("Drop", {}).annotations({ identifier: "CallbackDropFault" })

/**
 * The callback is sent twice, the same body both times (same nonce), as a retry after a lost answer would be.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.CallbackDuplicateFault.make({}), Fault.callbackDuplicate)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackDuplicateFault = Schema.TaggedStruct("Duplicate", {}).annotations({
  identifier: "CallbackDuplicateFault"
})

/**
 * The callback is sent this much later (by the emulator's `Clock`).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 * import * as Schema from "effect/Schema"
 *
 * const fault = Schema.decodeUnknownSync(Fault.CallbackDelayFault)({ _tag: "Delay", duration: 1500 })
 * assert.strictEqual(Duration.toMillis(fault.duration), 1500)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackDelayFault = Schema.TaggedStruct("Delay", {
  /** Milliseconds or a text duration (`"1 second"`) in a JSON file. */
  duration: DurationFromJson
}).annotations({ identifier: "CallbackDelayFault" })

/**
 * The callback is held back and sent after the next callback's first attempt (out of order).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.CallbackReorderFault.make({}), Fault.callbackReorder)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackReorderFault = Schema.TaggedStruct("Reorder", {}).annotations({
  identifier: "CallbackReorderFault"
})

/**
 * The body is `application/x-www-form-urlencoded` (arrays as `rtmp_url[]=…`), as ZEGOCLOUD sends on request.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.CallbackFormEncodeFault.make({}), Fault.callbackFormEncode)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackFormEncodeFault = Schema.TaggedStruct("FormEncode", {}).annotations({
  identifier: "CallbackFormEncodeFault"
})

/**
 * The callback carries a wrong `signature` (as a forger would send).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Fault.CallbackBadSignatureFault.make({}), Fault.callbackBadSignature)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackBadSignatureFault = Schema.TaggedStruct("BadSignature", {}).annotations({
  identifier: "CallbackBadSignatureFault"
})

/**
 * What a callback rule does to a callback.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * assert.deepStrictEqual(Schema.decodeUnknownSync(Fault.CallbackFault)({ _tag: "Duplicate" }), Fault.callbackDuplicate)
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackFault = Schema.Union(
  CallbackDropFault,
  CallbackDuplicateFault,
  CallbackDelayFault,
  CallbackReorderFault,
  CallbackFormEncodeFault,
  CallbackBadSignatureFault
).annotations({ identifier: "CallbackFault" })
/**
 * What a callback rule does to a callback.
 *
 * @since 0.1.0
 * @category callback models
 */
export type CallbackFault = typeof CallbackFault.Type

/**
 * A callback event the emulator sends.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * assert.ok(Schema.is(Fault.CallbackEvent)("stream_close"))
 * assert.ok(!Schema.is(Fault.CallbackEvent)("room_close"))
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackEvent = Schema.Literal("stream_create", "stream_close")
/**
 * A callback event the emulator sends: `stream_create` or `stream_close`.
 *
 * @since 0.1.0
 * @category callback models
 */
export type CallbackEvent = typeof CallbackEvent.Type

/**
 * A callback rule: when it fires (every condition given must hold) and what it does to the callback.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * const rule = Schema.decodeUnknownSync(Fault.CallbackFaultRule)({ callback: { _tag: "Drop" }, event: "stream_close" })
 * assert.ok(Fault.isCallbackRule(rule))
 * ```
 *
 * @since 0.1.0
 * @category callback schemas
 */
export const CallbackFaultRule = Schema.Struct({
  callback: CallbackFault,
  /** Fires for the next `next` callbacks that meet the other conditions, then is spent. Default: no limit. */
  next: Schema.optional(Schema.Int.pipe(Schema.positive({ message: () => "next must be a positive integer" }))),
  /** Fires with this probability (0 to 1) for each callback that meets the other conditions. Default 1. */
  probability: Schema.optional(
    Schema.Number.pipe(Schema.between(0, 1, { message: () => "probability must be between 0 and 1" }))
  ),
  /** Only this event. */
  event: Schema.optional(CallbackEvent),
  /** A regular expression the callback's `stream_id` must match. */
  streamId: Schema.optional(RegExpSource),
  /** Only callbacks of this AppId. */
  appId: Schema.optional(Params.AppId)
}).annotations({ identifier: "CallbackFaultRule" })
/**
 * A callback rule: when it fires and what it does to the callback.
 *
 * @example
 * ```ts
 * import { Emulator, Fault } from "@effect-zego/emulator"
 *
 * // Every stream_create is sent twice, as ZEGOCLOUD may.
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackDuplicate, event: "stream_create" }
 * const options: Emulator.Options = { apps: [Emulator.demoApp], callbackFaults: [rule] }
 * ```
 *
 * @since 0.1.0
 * @category callback models
 */
export type CallbackFaultRule = typeof CallbackFaultRule.Type

/**
 * Any rule: one for the API's answers ({@link FaultRule}) or one for the callbacks ({@link CallbackFaultRule}).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 * import * as Schema from "effect/Schema"
 *
 * const rules = Schema.decodeUnknownSync(Schema.Array(Fault.AnyRule))([
 *   { fault: { _tag: "Reset" }, next: 1 },
 *   { callback: { _tag: "Reorder" } }
 * ])
 * assert.deepStrictEqual(rules.map(Fault.isCallbackRule), [false, true])
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const AnyRule = Schema.Union(FaultRule, CallbackFaultRule).annotations({ identifier: "AnyFaultRule" })
/**
 * Any rule: one for the API's answers or one for the callbacks.
 *
 * @since 0.1.0
 * @category models
 */
export type AnyRule = typeof AnyRule.Type

/**
 * Whether a rule is a callback rule.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * assert.ok(Fault.isCallbackRule({ callback: Fault.callbackDrop }))
 * assert.ok(!Fault.isCallbackRule({ fault: Fault.reset }))
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCallbackRule = (rule: AnyRule): rule is CallbackFaultRule => "callback" in rule

/**
 * A callback fault: never send it.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackDrop, next: 1, event: "stream_create" }
 * ```
 *
 * @since 0.1.0
 * @category callback constructors
 */
export const callbackDrop: CallbackFault = CallbackDropFault.make({})

/**
 * A callback fault: send it twice.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackDuplicate, probability: 0.5 }
 * ```
 *
 * @since 0.1.0
 * @category callback constructors
 */
export const callbackDuplicate: CallbackFault = CallbackDuplicateFault.make({})

/**
 * A callback fault: send it `duration` later.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackDelay("30 seconds"), event: "stream_close" }
 * ```
 *
 * @since 0.1.0
 * @category callback constructors
 */
export const callbackDelay = (duration: Duration.DurationInput): CallbackFault =>
  CallbackDelayFault.make({ duration: Duration.decode(duration) })

/**
 * A callback fault: send it after the next callback.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackReorder, next: 1 }
 * ```
 *
 * @since 0.1.0
 * @category callback constructors
 */
export const callbackReorder: CallbackFault = CallbackReorderFault.make({})

/**
 * A callback fault: a form-encoded body.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackFormEncode }
 * ```
 *
 * @since 0.1.0
 * @category callback constructors
 */
export const callbackFormEncode: CallbackFault = CallbackFormEncodeFault.make({})

/**
 * A callback fault: a wrong signature.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.CallbackFaultRule = { callback: Fault.callbackBadSignature, next: 1 }
 * ```
 *
 * @since 0.1.0
 * @category callback constructors
 */
export const callbackBadSignature: CallbackFault = CallbackBadSignatureFault.make({})
