/**
 * Restreaming to a third-party CDN (`CreatCDNTransferRule`, `DeleteCDNTransferRule`, `ClearCDNTransferRule`):
 * ZEGOCLOUD relays a stream to any RTMP ingest (YouTube, Twitch, a CDN of your own), from the moment the stream is
 * published (a rule made before the stream starts begins with it), until the rule is deleted.
 *
 * ZEGOCLOUD reports no relay state: no action lists the rules, and no callback tells a relay started or failed. Whether
 * the stream itself is live is `StreamState` (`DescribeRTCStreamState`) or the stream callbacks.
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
import { CdnUrl, Sequence, StreamId } from "./Params.js"
import * as ServerApi from "./ServerApi.js"
import { StreamRequest } from "./StreamState.js"
import type { CommonError, InvalidCdnUrlError, InvalidRequestError } from "./ZegoError.js"

/**
 * Per-call options: the retry schedule, and a `Sequence` of the caller's (as `StreamState.CallOptions` says).
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  readonly retry?: ServerApi.CallOptions<RelayError>["retry"]
  /** The `Sequence` of the first attempt (a retry sends the numbers just above it); default: the process's counter. */
  readonly sequence?: Sequence | undefined
}

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Restream an OBS stream to YouTube too.
 * const toYouTube = (streamId: string, key: string) =>
 *   Effect.flatMap(StreamRelay.StreamRelay, (relay) => relay.start(streamId, `rtmp://a.rtmp.youtube.com/live2/${key}`))
 * const TestLive = ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * Effect.runPromise(toYouTube("s1", "abcd").pipe(Effect.provide(TestLive))).then(({ streamId }) =>
 *   assert.strictEqual(streamId, "s1")
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class StreamRelay extends Context.Tag("@effect-zego/core/StreamRelay")<StreamRelay, Service>() {}

/**
 * Every error `start` and `stop` can fail with: the global table's, and `InvalidCdnUrlError` (5004, 30001). An invalid
 * `cdnUrl` is an `InvalidRequestError` before anything is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export type RelayError = CommonError | InvalidCdnUrlError

/**
 * Every error `clear` can fail with: the global table's (its own codes, 5003 and 5005, are classes of it).
 *
 * @since 0.1.0
 * @category errors
 */
export type ClearError = CommonError

/**
 * A relay started or stopped.
 *
 * @since 0.1.0
 * @category models
 */
export interface Relayed {
  readonly requestId: string
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
  /** The CDN URL that was sent, whole: it holds the CDN's stream key, so print or log `Params.maskCdnUrl(cdnUrl)`. */
  readonly cdnUrl: string
}

/**
 * A stream's relays not yet started, dropped.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cleared {
  readonly requestId: string
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
}

/**
 * The service.
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // Relay for the length of a show, then stop: the same URL names the relay to stop.
 * const show = (streamId: string, cdnUrl: string) =>
 *   Effect.gen(function*() {
 *     const relay: StreamRelay.Service = yield* StreamRelay.StreamRelay
 *     yield* relay.start(streamId, cdnUrl)
 *     yield* Effect.sleep("1 hour")
 *     yield* relay.stop(streamId, cdnUrl)
 *   })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly appId: number
  readonly baseUrl: string
  /** `CreatCDNTransferRule`: relay the stream to `cdnUrl`, now if it is live, else from when it starts. */
  readonly start: (streamId: string, cdnUrl: string, options?: CallOptions) => Effect.Effect<Relayed, RelayError>
  /** `DeleteCDNTransferRule`: stop the relay to `cdnUrl` (the URL it was started with). */
  readonly stop: (streamId: string, cdnUrl: string, options?: CallOptions) => Effect.Effect<Relayed, RelayError>
  /** `ClearCDNTransferRule`: drop the stream's relays not yet started; a running relay goes on. */
  readonly clear: (streamId: string, options?: CallOptions) => Effect.Effect<Cleared, ClearError>
}

/**
 * Options of {@link make} and {@link layer}: those of every service (the default rate limit is 10/s, 5/s in test,
 * shared by the three actions).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = ServerApi.Options

/**
 * What `start` and `stop` send: a stream id, an `rtmp://` or `rtmps://` URL, and optionally a `Sequence`.
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const is = Schema.is(StreamRelay.RelayRequest)
 * assert.strictEqual(is({ streamId: "s1", cdnUrl: "rtmp://live.example.com/app/key" }), true)
 * assert.strictEqual(is({ streamId: "s1", cdnUrl: "http://live.example.com/app/key" }), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RelayRequest = Schema.Struct({ streamId: StreamId, cdnUrl: CdnUrl, sequence: Schema.optional(Sequence) })
  .annotations({ identifier: "RelayRequest" })

const relay = (
  action: "CreatCDNTransferRule" | "DeleteCDNTransferRule"
): ServerApi.Declaration<typeof RelayRequest.Type, Relayed, RelayError> => ({
  action,
  spanName: `StreamRelay.${action}`,
  parameters: RelayRequest,
  data: Schema.Unknown,
  streamId: (request) => request.streamId,
  sequence: (request) => request.sequence,
  query: (request) => `&CDNUrl=${encodeURIComponent(request.cdnUrl)}`,
  annotate: (span, request) => span.attribute("zego.cdn_url_host", new URL(request.cdnUrl).host),
  answer: (envelope, request, streamId) =>
    Either.right({ requestId: envelope.RequestId, streamId, cdnUrl: request.cdnUrl })
})

/**
 * `CreatCDNTransferRule` (ZEGOCLOUD's spelling), declared: 10 calls per second per AppId (5 in the test environment),
 * the budget shared with the other two.
 *
 * @since 0.1.0
 * @category declarations
 */
export const createRule = relay("CreatCDNTransferRule")

/**
 * `DeleteCDNTransferRule`, declared: the budget of `createRule`.
 *
 * @since 0.1.0
 * @category declarations
 */
export const deleteRule = relay("DeleteCDNTransferRule")

/**
 * `ClearCDNTransferRule`, declared: the budget of `createRule`.
 *
 * @since 0.1.0
 * @category declarations
 */
export const clearRules: ServerApi.Declaration<typeof StreamRequest.Type, Cleared, ClearError> = {
  action: "ClearCDNTransferRule",
  spanName: "StreamRelay.ClearCDNTransferRule",
  parameters: StreamRequest,
  data: Schema.Unknown,
  streamId: (request) => request.streamId,
  sequence: (request) => request.sequence,
  query: () => "",
  answer: (envelope, _, streamId) => Either.right({ requestId: envelope.RequestId, streamId })
}

/**
 * Builds the service; fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const serverSecret = Redacted.make("secret")
 * const program = Effect.gen(function*() {
 *   const service = yield* StreamRelay.make({ appId: 1234567890, serverSecret, baseUrl: "http://127.0.0.1:1" })
 *   return yield* service.clear("s1")
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
    const create = yield* engine.bind(createRule)
    const remove = yield* engine.bind(deleteRule)
    const clear = yield* engine.bind(clearRules)
    const withSequence = <R extends object>(request: R, callOptions: CallOptions | undefined) =>
      callOptions?.sequence === undefined ? request : { ...request, sequence: callOptions.sequence }
    return StreamRelay.of({
      appId: engine.appId,
      baseUrl: engine.baseUrl,
      start: (streamId, cdnUrl, callOptions) => create(withSequence({ streamId, cdnUrl }, callOptions), callOptions),
      stop: (streamId, cdnUrl, callOptions) => remove(withSequence({ streamId, cdnUrl }, callOptions), callOptions),
      clear: (streamId, callOptions) => clear(withSequence({ streamId }, callOptions), callOptions)
    })
  })

const layers = Engine.layers(StreamRelay, make, ServerApi.configFromEnv)

/**
 * The service as a layer; it needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * const StreamRelayLive = StreamRelay.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<StreamRelay, InvalidRequestError, HttpClient.HttpClient> =
  layers.layer

/**
 * The service as a layer, its options read through Effect `Config` (by default from the environment).
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_APP_ID, ZEGO_SERVER_SECRET and the optional ZEGO_* variables, as `RtmpDispatch.configFromEnv` reads them.
 * const StreamRelayLive = StreamRelay.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config?: Config.Config.Wrap<Options>
) => Layer.Layer<StreamRelay, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> = layers.layerConfig
