/**
 * Fault injection: rules that make the emulator misbehave the way a real network or a troubled server does,
 * so that a client's error handling, retries and time limits can be tested.
 *
 * A rule says when it fires (the next `next` matching calls, with a `probability`, for stream ids matching a
 * pattern, for one AppId or action; all conditions together) and what happens instead of the normal answer.
 * Faults are applied before any check, as a network or a broken gateway would; the first rule that fires wins.
 */
import { Params } from "@effect-zego/core"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { ACTIONS } from "./internal/dispatcher.js"
import { DurationFromJson } from "./internal/duration.js"

/** Answers this return code in the envelope, with HTTP 200, as the real server does. Code 0 answers no `Data`. */
export const CodeFault = Schema.TaggedStruct("Code", {
  code: Schema.Int,
  /** The envelope's `Message`; default: the emulator's text for the code. */
  message: Schema.optional(Schema.String)
}).annotations({ identifier: "CodeFault" })

/** Waits this long, then answers normally (to test a client's time limit). */
export const DelayFault = Schema.TaggedStruct("Delay", {
  /** Milliseconds or a text duration (`"1 second"`) in a JSON file. */
  duration: DurationFromJson
}).annotations({ identifier: "DelayFault" })

/** Answers an HTTP 5xx status without an envelope, as a proxy in front of the API would. */
export const HttpStatusFault = Schema.TaggedStruct("HttpStatus", {
  status: Schema.Int.pipe(Schema.between(500, 599, { message: () => "status must be an HTTP 5xx status" })),
  /** Default: a small HTML error page. */
  body: Schema.optional(Schema.String)
}).annotations({ identifier: "HttpStatusFault" })

/** Answers HTTP 200 with a body that is not the envelope (default: truncated JSON). */
export const MalformedFault = Schema.TaggedStruct("Malformed", {
  body: Schema.optional(Schema.String)
}).annotations({ identifier: "MalformedFault" })

/** Resets the connection: the socket is destroyed without an answer. */
export const ResetFault = Schema.TaggedStruct("Reset", {}).annotations({ identifier: "ResetFault" })

/** What a rule does instead of the normal answer. */
export const Fault = Schema.Union(CodeFault, DelayFault, HttpStatusFault, MalformedFault, ResetFault).annotations({
  identifier: "Fault"
})
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

/** A rule: when it fires (every condition given must hold) and what it does. */
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
  action: Schema.optional(Schema.Literal(...ACTIONS))
}).annotations({ identifier: "FaultRule" })
export type FaultRule = typeof FaultRule.Type

/** A fault that answers `code` (and `message`) in the envelope. */
export const code = (code: number, message?: string): Fault =>
  CodeFault.make(message === undefined ? { code } : { code, message })

/** A fault that waits `duration`, then answers normally. */
export const delay = (duration: Duration.DurationInput): Fault =>
  DelayFault.make({ duration: Duration.decode(duration) })

/** A fault that answers HTTP `status` (5xx) without an envelope. */
export const httpStatus = (status: number, body?: string): Fault =>
  HttpStatusFault.make(body === undefined ? { status } : { status, body })

/** A fault that answers HTTP 200 with a body that is not the envelope. */
export const malformed = (body?: string): Fault => MalformedFault.make(body === undefined ? {} : { body })

/** A fault that resets the connection. */
export const reset: Fault = ResetFault.make({})

// ---------------------------------------------------------------------------------------------------------------
// Callback faults: what the emulator does to the server callbacks it sends (see `Emulator`'s `callbackUrl`).
// ---------------------------------------------------------------------------------------------------------------

/** The callback is never sent (recorded as dropped), as when ZEGOCLOUD loses an event. */
export const CallbackDropFault = Schema.TaggedStruct("Drop", {}).annotations({ identifier: "CallbackDropFault" })

/** The callback is sent twice, the same body both times (same nonce), as a retry after a lost answer would be. */
export const CallbackDuplicateFault = Schema.TaggedStruct("Duplicate", {}).annotations({
  identifier: "CallbackDuplicateFault"
})

/** The callback is sent this much later (by the emulator's `Clock`). */
export const CallbackDelayFault = Schema.TaggedStruct("Delay", {
  /** Milliseconds or a text duration (`"1 second"`) in a JSON file. */
  duration: DurationFromJson
}).annotations({ identifier: "CallbackDelayFault" })

/** The callback is held back and sent after the next callback's first attempt (out of order). */
export const CallbackReorderFault = Schema.TaggedStruct("Reorder", {}).annotations({
  identifier: "CallbackReorderFault"
})

/** The body is `application/x-www-form-urlencoded` (arrays as `rtmp_url[]=…`), as ZEGOCLOUD sends on request. */
export const CallbackFormEncodeFault = Schema.TaggedStruct("FormEncode", {}).annotations({
  identifier: "CallbackFormEncodeFault"
})

/** The callback carries a wrong `signature` (as a forger would send). */
export const CallbackBadSignatureFault = Schema.TaggedStruct("BadSignature", {}).annotations({
  identifier: "CallbackBadSignatureFault"
})

/** What a callback rule does to a callback. */
export const CallbackFault = Schema.Union(
  CallbackDropFault,
  CallbackDuplicateFault,
  CallbackDelayFault,
  CallbackReorderFault,
  CallbackFormEncodeFault,
  CallbackBadSignatureFault
).annotations({ identifier: "CallbackFault" })
export type CallbackFault = typeof CallbackFault.Type

/** A callback event the emulator sends. */
export const CallbackEvent = Schema.Literal("stream_create", "stream_close")
export type CallbackEvent = typeof CallbackEvent.Type

/** A callback rule: when it fires (every condition given must hold) and what it does to the callback. */
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
export type CallbackFaultRule = typeof CallbackFaultRule.Type

/** Any rule: one for the API's answers ({@link FaultRule}) or one for the callbacks ({@link CallbackFaultRule}). */
export const AnyRule = Schema.Union(FaultRule, CallbackFaultRule).annotations({ identifier: "AnyFaultRule" })
export type AnyRule = typeof AnyRule.Type

/** Whether a rule is a callback rule. */
export const isCallbackRule = (rule: AnyRule): rule is CallbackFaultRule => "callback" in rule

/** A callback fault: never send it. */
export const callbackDrop: CallbackFault = CallbackDropFault.make({})

/** A callback fault: send it twice. */
export const callbackDuplicate: CallbackFault = CallbackDuplicateFault.make({})

/** A callback fault: send it `duration` later. */
export const callbackDelay = (duration: Duration.DurationInput): CallbackFault =>
  CallbackDelayFault.make({ duration: Duration.decode(duration) })

/** A callback fault: send it after the next callback. */
export const callbackReorder: CallbackFault = CallbackReorderFault.make({})

/** A callback fault: a form-encoded body. */
export const callbackFormEncode: CallbackFault = CallbackFormEncodeFault.make({})

/** A callback fault: a wrong signature. */
export const callbackBadSignature: CallbackFault = CallbackBadSignatureFault.make({})
