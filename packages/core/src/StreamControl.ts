/**
 * Forbidding and resuming a stream (`ForbidRTCStream`, `ResumeRTCStream`): a forbidden stream id cannot be
 * published to ZEGOCLOUD's RTC service (its publishers and players are told) until it is resumed. Since the stream
 * key of an RTMP push is its StreamId, this is how a backend stops an OBS stream.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Engine from "./internal/engine.js"
import type { Action } from "./Params.js"
import { StreamRequest } from "./StreamState.js"
import type { CallOptions } from "./StreamState.js"
import type { CommonError, InvalidRequestError } from "./ZegoError.js"

export type {
  /**
   * Per-call options: the retry schedule and a `Sequence`.
   *
   * @since 0.1.0
   * @category models
   */
  CallOptions
} from "./StreamState.js"

/**
 * The service tag.
 *
 * @since 0.1.0
 * @category services
 */
export class StreamControl extends Context.Tag("@effect-zego/core/StreamControl")<StreamControl, Service>() {}

/**
 * Every error `forbid` and `resume` can fail with: the global table's (they have no codes of their own).
 *
 * @since 0.1.0
 * @category errors
 */
export type ControlError = CommonError

/**
 * A stream forbidden or resumed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Controlled {
  readonly requestId: string
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
}

/**
 * The service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly appId: number
  readonly baseUrl: string
  /** `ForbidRTCStream`: the stream id may no longer be published. */
  readonly forbid: (streamId: string, options?: CallOptions) => Effect.Effect<Controlled, ControlError>
  /** `ResumeRTCStream`: the stream id may be published again. */
  readonly resume: (streamId: string, options?: CallOptions) => Effect.Effect<Controlled, ControlError>
}

/**
 * Options of {@link make} and {@link layer}: those of every service (the default rate limit is 20/s, 5/s in test).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = Engine.Options

const declare = (
  action: Extract<Action, "ForbidRTCStream" | "ResumeRTCStream">
): Engine.Declaration<typeof StreamRequest.Type, Controlled, ControlError> => ({
  action,
  spanName: `StreamControl.${action}`,
  parameters: StreamRequest,
  data: Schema.Unknown,
  streamId: (request) => request.streamId,
  sequence: (request) => request.sequence,
  query: () => "",
  rateLimit: { production: { limit: 20, window: "1 second" }, test: { limit: 5, window: "1 second" } },
  budgetKey: Engine.ownBudget(action),
  answers: [],
  answer: (envelope, _, streamId) => Either.right({ requestId: envelope.RequestId, streamId })
})

/**
 * `ForbidRTCStream`, declared: 20 calls per second per AppId (5 in the test environment).
 *
 * @since 0.1.0
 * @category utils
 */
export const forbidStream = declare("ForbidRTCStream")
/**
 * `ResumeRTCStream`, declared: 20 calls per second per AppId (5 in the test environment), a budget of its own.
 *
 * @since 0.1.0
 * @category utils
 */
export const resumeStream = declare("ResumeRTCStream")

/**
 * Builds the service; fails with `InvalidRequestError` when an option is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, InvalidRequestError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const engine = yield* Engine.make(options)
    const forbid = yield* engine.bind(forbidStream)
    const resume = yield* engine.bind(resumeStream)
    const request = (streamId: string, callOptions: CallOptions | undefined) =>
      callOptions?.sequence === undefined ? { streamId } : { streamId, sequence: callOptions.sequence }
    return StreamControl.of({
      appId: engine.appId,
      baseUrl: engine.baseUrl,
      forbid: (streamId, callOptions) => forbid(request(streamId, callOptions), callOptions),
      resume: (streamId, callOptions) => resume(request(streamId, callOptions), callOptions)
    })
  })

const layers = Engine.layers(StreamControl, make, Engine.configFromEnv)

/**
 * The service as a layer; it needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category errors
 */
export const layer: (options: Options) => Layer.Layer<StreamControl, InvalidRequestError, HttpClient.HttpClient> =
  layers.layer

/**
 * The service as a layer, its options read through Effect `Config` (by default from the environment).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config?: Config.Config.Wrap<Options>
) => Layer.Layer<StreamControl, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> =
  layers.layerConfig
