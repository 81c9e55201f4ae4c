/**
 * The state of a stream (`DescribeRTCStreamState`): whether ZEGOCLOUD sees it publishing now, or saw it and it has
 * closed, or knows no such stream. What a backend asks after a dispatch to learn that OBS is really live.
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
import { Sequence, StreamId } from "./Params.js"
import * as ServerApi from "./ServerApi.js"
import type { CommonError, InvalidRequestError, StreamNotFoundError } from "./ZegoError.js"

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Is OBS really live on this stream?
 * const isLive = (streamId: string) =>
 *   Effect.flatMap(StreamState.StreamState, (s) => s.describe(streamId)).pipe(
 *     Effect.map((state) => state.state === "active"),
 *     Effect.catchTag("StreamNotFoundError", () => Effect.succeed(false))
 *   )
 * const TestLive = ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * Effect.runPromise(isLive("s1").pipe(Effect.provide(TestLive))).then((live) => assert.strictEqual(live, true))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class StreamState extends Context.Tag("@effect-zego/core/StreamState")<StreamState, Service>() {}

/**
 * Every error `describe` can fail with: the global table's, and 41004 (no such stream).
 *
 * @since 0.1.0
 * @category errors
 */
export type DescribeError = CommonError | StreamNotFoundError

/**
 * A stream's state: `active` (Code 0) or `closed` (Code 41006).
 *
 * @since 0.1.0
 * @category models
 */
export type State =
  | {
    readonly state: "active"
    readonly requestId: string
    /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
    readonly streamId: string
    readonly createdAt: Date
  }
  | {
    readonly state: "closed"
    readonly requestId: string
    readonly streamId: string
    readonly createdAt: Date
    readonly closedAt: Date
  }

/**
 * Per-call options: the retry schedule, and a `Sequence` of the caller's (by default the process's counter).
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  readonly retry?: ServerApi.CallOptions<DescribeError>["retry"]
  /**
   * The `Sequence` of the first attempt; by default every attempt draws one from the process's strictly increasing
   * millisecond counter. A retry sends the numbers just above yours (`sequence + 1`, `+ 2`, …), never yours again:
   * the attempt before it may have been applied, and ZEGOCLOUD refuses a Sequence that does not increase per stream
   * within 10 seconds. Leave that much room above each of yours (a millisecond timestamp does), or retry with
   * `Schedule.stop`.
   */
  readonly sequence?: Sequence | undefined
}

/**
 * The service.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // The id the callbacks will carry for a stream (prefixed in the test environment).
 * const callbackId = (streamId: string) =>
 *   Effect.map(StreamState.StreamState, (service: StreamState.Service) => service.streamIdAsSent(streamId))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly appId: number
  readonly baseUrl: string
  /**
   * A stream id as ZEGOCLOUD knows it: with the `zegotest-<AppId>-` prefix in the test environment (once), as the
   * callbacks carry it.
   */
  readonly streamIdAsSent: (streamId: string) => string
  /** `DescribeRTCStreamState`: active or closed; `StreamNotFoundError` when ZEGOCLOUD knows no such stream. */
  readonly describe: (streamId: string, options?: CallOptions) => Effect.Effect<State, DescribeError>
}

/**
 * Options of {@link make} and {@link layer}: those of every service (the default rate limit is 40/s, 10/s in test).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = ServerApi.Options

/**
 * The parameters of the stream actions that take only a stream: `StreamId`, `Sequence`.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(StreamState.StreamRequest)({ streamId: "s1", sequence: 7 }), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamRequest = Schema.Struct({ streamId: StreamId, sequence: Schema.optional(Sequence) })
  .annotations({ identifier: "StreamRequest" })

/**
 * A time of `DescribeRTCStreamState`'s `Data`: Unix seconds, as a string of decimal digits (the docs call them
 * strings; the callbacks' `create_time` is seconds) or an integer. Anything else is a `ResponseDecodeError`. The
 * time is the server's, up to year 33658, not checked against any clock (`StreamTracker` does: see `maxClockSkew`).
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const date = Schema.decodeUnknownSync(StreamState.UnixSeconds)("1700000000")
 * assert.strictEqual(date.toISOString(), "2023-11-14T22:13:20.000Z")
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnixSeconds = Schema.transform(
  Schema.Union(
    Schema.String.pipe(Schema.pattern(/^\d{1,12}$/, { message: () => "a time must be Unix seconds in digits" })),
    Schema.Int.pipe(Schema.between(0, 999_999_999_999))
  ),
  Schema.DateFromSelf,
  {
    strict: true,
    decode: (seconds) => new Date(Number(seconds) * 1000),
    encode: (date) => String(Math.floor(date.getTime() / 1000))
  }
).annotations({ identifier: "UnixSeconds" })

/**
 * `Data` of an active stream.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const data = Schema.decodeUnknownSync(StreamState.ActiveData)({ create_time: "1700000000" })
 * assert.strictEqual(data.create_time.getTime(), 1_700_000_000_000)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ActiveData = Schema.Struct({ create_time: UnixSeconds })
/**
 * `Data` of a closed stream (Code 41006).
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const data = Schema.decodeUnknownSync(StreamState.ClosedData)({ create_time: 1700000000, close_time: 1700000060 })
 * assert.strictEqual(data.close_time.getTime() - data.create_time.getTime(), 60_000)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClosedData = Schema.Struct({ create_time: UnixSeconds, close_time: UnixSeconds })

const CLOSED = 41006
const readActive = Engine.decodeData(ActiveData)
const readClosed = Engine.decodeData(ClosedData)

/**
 * `DescribeRTCStreamState`, declared: 40 calls per second per AppId (10 in the test environment).
 *
 * @since 0.1.0
 * @category declarations
 */
export const describeStreamState: ServerApi.Declaration<typeof StreamRequest.Type, State, DescribeError> = {
  action: "DescribeRTCStreamState",
  spanName: "StreamState.DescribeRTCStreamState",
  parameters: StreamRequest,
  data: Schema.Union(ActiveData, ClosedData),
  streamId: (request) => request.streamId,
  sequence: (request) => request.sequence,
  query: () => "",
  answer: (envelope, _, streamId) =>
    envelope.Code === CLOSED
      ? Either.map(readClosed("DescribeRTCStreamState", envelope), (data): State => ({
        state: "closed",
        requestId: envelope.RequestId,
        streamId,
        createdAt: data.create_time,
        closedAt: data.close_time
      }))
      : Either.map(readActive("DescribeRTCStreamState", envelope), (data): State => ({
        state: "active",
        requestId: envelope.RequestId,
        streamId,
        createdAt: data.create_time
      }))
}

/**
 * Builds the service; fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const serverSecret = Redacted.make("secret")
 * const program = Effect.gen(function*() {
 *   const service = yield* StreamState.make({ appId: 1234567890, serverSecret, baseUrl: "http://127.0.0.1:1" })
 *   return yield* service.describe("s1")
 * })
 * Effect.runPromise(program.pipe(Effect.provide(ZegoMock.layer({ appId: 1234567890, serverSecret }))))
 *   .then((result) => assert.strictEqual(result.state, "active"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, InvalidRequestError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const engine = yield* Engine.make(options)
    const describe = yield* engine.bind(describeStreamState)
    return StreamState.of({
      appId: engine.appId,
      baseUrl: engine.baseUrl,
      streamIdAsSent: engine.streamIdAsSent,
      describe: (streamId, callOptions) =>
        describe(
          callOptions?.sequence === undefined ? { streamId } : { streamId, sequence: callOptions.sequence },
          callOptions
        )
    })
  })

const layers = Engine.layers(StreamState, make, ServerApi.configFromEnv)

/**
 * The service as a layer; it needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * const StreamStateLive = StreamState.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<StreamState, InvalidRequestError, HttpClient.HttpClient> =
  layers.layer

/**
 * The service as a layer, its options read through Effect `Config` (by default from the environment).
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_APP_ID, ZEGO_SERVER_SECRET and the optional ZEGO_* variables, as `RtmpDispatch.configFromEnv` reads them.
 * const StreamStateLive = StreamState.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config?: Config.Config.Wrap<Options>
) => Layer.Layer<StreamState, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> = layers.layerConfig
