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
import * as ServerApi from "./ServerApi.js"
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
 * @example
 * ```ts
 * import { StreamControl } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Stop an OBS stream: its stream key is the stream id.
 * const stop = (streamId: string) => Effect.flatMap(StreamControl.StreamControl, (control) => control.forbid(streamId))
 * const TestLive = ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * Effect.runPromise(stop("s1").pipe(Effect.provide(TestLive))).then(({ streamId }) => assert.strictEqual(streamId, "s1"))
 * ```
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
 * @example
 * ```ts
 * import { StreamControl } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // Forbid a stream for a minute, then let it publish again.
 * const timeOut = (streamId: string) =>
 *   Effect.gen(function*() {
 *     const control: StreamControl.Service = yield* StreamControl.StreamControl
 *     yield* control.forbid(streamId)
 *     yield* Effect.sleep("1 minute")
 *     yield* control.resume(streamId)
 *   })
 * ```
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
export type Options = ServerApi.Options

const declare = (
  action: Extract<Action, "ForbidRTCStream" | "ResumeRTCStream">
): ServerApi.Declaration<typeof StreamRequest.Type, Controlled, ControlError> => ({
  action,
  spanName: `StreamControl.${action}`,
  parameters: StreamRequest,
  data: Schema.Unknown,
  streamId: (request) => request.streamId,
  sequence: (request) => request.sequence,
  query: () => "",
  answer: (envelope, _, streamId) => Either.right({ requestId: envelope.RequestId, streamId })
})

/**
 * `ForbidRTCStream`, declared: 20 calls per second per AppId (5 in the test environment).
 *
 * @since 0.1.0
 * @category declarations
 */
export const forbidStream = declare("ForbidRTCStream")
/**
 * `ResumeRTCStream`, declared: 20 calls per second per AppId (5 in the test environment), a budget of its own.
 *
 * @since 0.1.0
 * @category declarations
 */
export const resumeStream = declare("ResumeRTCStream")

/**
 * Builds the service; fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { StreamControl } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const serverSecret = Redacted.make("secret")
 * const program = Effect.gen(function*() {
 *   const service = yield* StreamControl.make({ appId: 1234567890, serverSecret, baseUrl: "http://127.0.0.1:1" })
 *   return yield* service.resume("s1")
 * })
 * Effect.runPromise(program.pipe(Effect.provide(ZegoMock.layer({ appId: 1234567890, serverSecret }))))
 *   .then((result) => assert.strictEqual(result.streamId, "s1"))
 * ```
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

const layers = Engine.layers(StreamControl, make, ServerApi.configFromEnv)

/**
 * The service as a layer; it needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { StreamControl } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * const StreamControlLive = StreamControl.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<StreamControl, InvalidRequestError, HttpClient.HttpClient> =
  layers.layer

/**
 * The service as a layer, its options read through Effect `Config` (by default from the environment).
 *
 * @example
 * ```ts
 * import { StreamControl } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_APP_ID, ZEGO_SERVER_SECRET and the optional ZEGO_* variables, as `RtmpDispatch.configFromEnv` reads them.
 * const StreamControlLive = StreamControl.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config?: Config.Config.Wrap<Options>
) => Layer.Layer<StreamControl, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> =
  layers.layerConfig
