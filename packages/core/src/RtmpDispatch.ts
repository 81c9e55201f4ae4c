/**
 * The RTMP dispatch service: asks ZEGOCLOUD for a publish or pull node (`RTMPDispatchV2`, RTMP URLs) or for
 * node addresses (`RTMPDispatch`, `host:port`), signing every attempt afresh, retrying what is worth retrying,
 * correcting clock skew, and keeping the AppId inside its rate limit.
 *
 * Both actions are declarations (see `ServerApi.Declaration`) run by the core's engine, which every server API action
 * of this library shares; the options, the config readers and the limits re-exported here are `ServerApi`'s.
 *
 * The service needs only `HttpClient.HttpClient`: `@effect-zego/node` provides one, `@effect-zego/core/testing`
 * provides a mock that speaks the ZEGOCLOUD protocol.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Arr from "effect/Array"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import type * as ParseResult from "effect/ParseResult"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type { Envelope } from "./Envelope.js"
import * as Engine from "./internal/engine.js"
import { DispatchRequest } from "./Params.js"
import type { DispatchAction, DispatchType } from "./Params.js"
import type { NodeAddress, RtmpNode } from "./RtmpNode.js"
import { NodeAddressFromString, parseNodeAddress, parseRtmpUrl, RtmpNodeFromUrl } from "./RtmpNode.js"
import * as ServerApi from "./ServerApi.js"
import type {
  AppNotOnlineError,
  CommonError,
  DispatchFailedError,
  InvalidClientIpError,
  InvalidDispatchTypeError,
  InvalidRequestError
} from "./ZegoError.js"
import { NoPublishNodeError, NoPullNodeError } from "./ZegoError.js"

export {
  /**
   * Checks a duration option as the services check theirs: a `DurationInput` that decodes, positive and at most
   * {@link MAX_DURATION}; otherwise an `InvalidRequestError` naming the parameter (never a defect).
   *
   * @example
   * ```ts
   * import { RtmpDispatch } from "@effect-zego/core"
   * import * as Either from "effect/Either"
   *
   * console.log(Either.isRight(RtmpDispatch.boundedDuration("timeout", "500 millis")))
   * // Output: true
   * console.log(Either.isLeft(RtmpDispatch.boundedDuration("timeout", "soon")))
   * // Output: true
   * ```
   *
   * @since 0.1.0
   * @category utils
   */
  boundedDuration,
  /**
   * The options read from the environment (see `ServerApi.configFromEnv`).
   *
   * @example
   * ```ts
   * import { RtmpDispatch } from "@effect-zego/core"
   * import * as ConfigProvider from "effect/ConfigProvider"
   * import * as Effect from "effect/Effect"
   *
   * // Reads ZEGO_APP_ID, ZEGO_SERVER_SECRET and the optional ZEGO_* variables.
   * const options = RtmpDispatch.configFromEnv.pipe(
   *   Effect.withConfigProvider(
   *     ConfigProvider.fromMap(new Map([["ZEGO_APP_ID", "1234567890"], ["ZEGO_SERVER_SECRET", "secret"]]))
   *   )
   * )
   * Effect.runPromise(options).then((o) => console.log(o.appId))
   * // Output: 1234567890
   * ```
   *
   * @since 0.1.0
   * @category config
   */
  configFromEnv,
  /**
   * A variable holding a non-negative integer in decimal digits.
   *
   * @example
   * ```ts
   * import { RtmpDispatch } from "@effect-zego/core"
   * import * as ConfigProvider from "effect/ConfigProvider"
   * import * as Effect from "effect/Effect"
   *
   * const port = RtmpDispatch.decimalConfig("PORT").pipe(
   *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PORT", "8080"]])))
   * )
   * Effect.runPromise(port).then(console.log)
   * // Output: 8080
   * ```
   *
   * @since 0.1.0
   * @category config
   */
  decimalConfig,
  /**
   * Exponential back-off from 200 ms with jitter, each delay capped at 2 s, at most 3 retries.
   *
   * @since 0.1.0
   * @category constants
   */
  defaultRetrySchedule,
  /**
   * The largest clock offset adopted from a server's `Date`.
   *
   * @since 0.1.0
   * @category constants
   */
  MAX_CLOCK_OFFSET,
  /**
   * The longest per-attempt `timeout` and rate-limit `window` accepted.
   *
   * @since 0.1.0
   * @category constants
   */
  MAX_DURATION,
  /**
   * The `rateLimit` option alone, from `ZEGO_RATE_LIMIT` and `ZEGO_RATE_LIMIT_WINDOW` (as {@link configFromEnv}
   * reads it), for a program that takes its other options elsewhere.
   *
   * @example
   * ```ts
   * import { RtmpDispatch } from "@effect-zego/core"
   * import * as ConfigProvider from "effect/ConfigProvider"
   * import * as Effect from "effect/Effect"
   *
   * const rateLimit = RtmpDispatch.rateLimitFromEnv.pipe(
   *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ZEGO_RATE_LIMIT", "10"]])))
   * )
   * Effect.runPromise(rateLimit).then((limit) => console.log(limit))
   * // Output: { limit: 10, window: "1 second" } (the default window)
   * ```
   *
   * @since 0.1.0
   * @category config
   */
  rateLimitFromEnv,
  /**
   * Checks a base URL: https, or http on a loopback host.
   *
   * @example
   * ```ts
   * import { RtmpDispatch } from "@effect-zego/core"
   *
   * console.log(RtmpDispatch.validateBaseUrl("http://127.0.0.1:8080"))
   * ```
   *
   * @since 0.1.0
   * @category utils
   */
  validateBaseUrl
} from "./ServerApi.js"

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.gen(function*() {
 *   const dispatch = yield* RtmpDispatch.RtmpDispatch
 *   const { nodes } = yield* dispatch.dispatch({ streamId: "room1-host", type: "push" })
 *   return nodes[0].url
 * })
 *
 * Effect.runPromise(
 *   program.pipe(Effect.provide(ZegoMock.layerDispatch({ appId: 1234567890, serverSecret: Redacted.make("secret") })))
 * ).then(console.log)
 * // Output: rtmp://127.0.0.1:1935/live/room1-host
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class RtmpDispatch extends Context.Tag("@effect-zego/core/RtmpDispatch")<RtmpDispatch, Service>() {}

/**
 * Every error a dispatch method can fail with: the global table's, the dispatch codes', an empty answer.
 *
 * @since 0.1.0
 * @category errors
 */
export type DispatchError =
  | CommonError
  | DispatchFailedError
  | NoPublishNodeError
  | NoPullNodeError
  | AppNotOnlineError
  | InvalidDispatchTypeError
  | InvalidClientIpError

/**
 * A successful `RTMPDispatchV2`: the parsed RTMP nodes, best first as the server ordered them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Dispatched {
  readonly requestId: string
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
  readonly type: DispatchType
  readonly nodes: Arr.NonEmptyReadonlyArray<RtmpNode>
}

/**
 * A successful `RTMPDispatch`: `host:port` addresses.
 *
 * @since 0.1.0
 * @category models
 */
export interface DispatchedAddresses {
  readonly requestId: string
  readonly streamId: string
  readonly type: DispatchType
  readonly addresses: Arr.NonEmptyReadonlyArray<NodeAddress>
}

/**
 * Per-call options.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Schedule from "effect/Schedule"
 *
 * // One attempt only, whatever the layer's retry schedule.
 * const noRetry: RtmpDispatch.CallOptions = { retry: Schedule.stop }
 * const program = Effect.flatMap(
 *   RtmpDispatch.RtmpDispatch,
 *   (dispatch) => dispatch.dispatch({ streamId: "room1-host", type: "pull" }, noRetry)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Overrides the layer's retry schedule for this call (`Schedule.stop` for no retry). */
  readonly retry?: Schedule.Schedule<unknown, DispatchError> | undefined
}

/**
 * The service.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // A `host:port` for a publish, with the service's AppId for the log.
 * const program = Effect.gen(function*() {
 *   const service: RtmpDispatch.Service = yield* RtmpDispatch.RtmpDispatch
 *   const { addresses } = yield* service.dispatchAddresses({ streamId: "room1-host", type: "push" })
 *   yield* Effect.log(`AppId ${service.appId}: ${addresses[0].host}`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly appId: number
  /** The base URL calls go to. */
  readonly baseUrl: string
  /** `RTMPDispatchV2`: RTMP URLs for a publish (`push`) or a pull. */
  readonly dispatch: (request: DispatchRequest, options?: CallOptions) => Effect.Effect<Dispatched, DispatchError>
  /** `RTMPDispatch`: `host:port` node addresses. */
  readonly dispatchAddresses: (
    request: DispatchRequest,
    options?: CallOptions
  ) => Effect.Effect<DispatchedAddresses, DispatchError>
}

/**
 * Options of {@link make} and {@link layer}: those of every service (the default rate limit is 40 per second).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = ServerApi.Options

/** Reads every item of `data` with `parse`; if one does not parse, the schema gives the error. */
const readEach = <A>(
  parse: (text: string) => A | undefined,
  schema: (data: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, ParseResult.ParseError>
) =>
(data: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<A>, ParseResult.ParseError> => {
  const read: Array<A> = new Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const item = data[i]
    const parsed = typeof item === "string" ? parse(item) : undefined
    if (parsed === undefined) return schema(data)
    read[i] = parsed
  }
  return Either.right(read)
}

const UrlsData = Schema.Array(RtmpNodeFromUrl)
const AddressesData = Schema.Array(NodeAddressFromString)
const decodeUrls = readEach(parseRtmpUrl, Schema.decodeUnknownEither(UrlsData))
const decodeAddresses = readEach(parseNodeAddress, Schema.decodeUnknownEither(AddressesData))

type Request = typeof DispatchRequest.Type

const STREAM_ID = /^[A-Za-z0-9_-]{1,256}$/

/**
 * The usual request read without the schema: a plain object holding exactly a valid `streamId` and a `type` (the
 * schema's rules, `publish` read as `push`). Anything else (a `clientIp`, a `sequence`, a symbol key, another
 * prototype) is left to the schema.
 */
const readUsualRequest = (request: unknown): Request | undefined => {
  if (typeof request !== "object" || request === null) return undefined
  const prototype = Object.getPrototypeOf(request)
  if (prototype !== Object.prototype && prototype !== null) return undefined
  const keys = Object.keys(request)
  if (
    keys.length !== 2 ||
    !(keys[0] === "streamId" ? keys[1] === "type" : keys[0] === "type" && keys[1] === "streamId") ||
    Object.getOwnPropertySymbols(request).length !== 0
  ) return undefined
  const { streamId, type } = request as { readonly streamId: unknown; readonly type: unknown }
  if (typeof streamId !== "string" || !STREAM_ID.test(streamId)) return undefined
  if (type === "push" || type === "pull") return { streamId, type }
  return type === "publish" ? { streamId, type: "push" } : undefined
}

/** What a dispatch's envelope gives: the nodes, or the error its `Data` amounts to. */
const nodesOf = <A>(
  action: DispatchAction,
  type: DispatchType,
  envelope: Envelope,
  decodeData: (data: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, ParseResult.ParseError>
): Either.Either<Arr.NonEmptyReadonlyArray<A>, DispatchError> => {
  const data = envelope.Data ?? []
  if (!Array.isArray(data)) return Either.left(Engine.dataError(action, envelope, "Data is not an array"))
  if (data.length === 0) {
    const fields = {
      code: envelope.Code,
      serverMessage: `${envelope.Message || "ok"} (Code 0 with no node in Data)`,
      requestId: envelope.RequestId,
      action,
      retryable: false
    }
    return Either.left(type === "push" ? new NoPublishNodeError(fields) : new NoPullNodeError(fields))
  }
  const nodes = decodeData(data)
  if (Either.isLeft(nodes)) {
    return Either.left(Engine.dataError(action, envelope, `Data: ${Engine.formatIssue(nodes.left).detail}`))
  }
  return Either.right(nodes.right as unknown as Arr.NonEmptyReadonlyArray<A>)
}

const declare = <A, B>(
  action: DispatchAction,
  data: Schema.Schema<ReadonlyArray<A>, ReadonlyArray<string>>,
  decodeData: (data: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, ParseResult.ParseError>,
  build: (requestId: string, streamId: string, type: DispatchType, nodes: Arr.NonEmptyReadonlyArray<A>) => B
): ServerApi.Declaration<Request, B, DispatchError> => ({
  action,
  spanName: `RtmpDispatch.${action}`,
  parameters: DispatchRequest,
  readParameters: readUsualRequest,
  streamId: (request) => request.streamId,
  sequence: (request) => request.sequence,
  // Every value is checked to need no escaping (letters, digits, `-`, `_`, `.`).
  query: (request) => `&Type=${request.type}` + (request.clientIp === undefined ? "" : `&ClientIP=${request.clientIp}`),
  data,
  annotate: (span, request) => span.attribute("zego.type", request.type),
  answer: (envelope, request, streamId) =>
    Either.map(
      nodesOf(action, request.type, envelope, decodeData),
      (nodes) => build(envelope.RequestId, streamId, request.type, nodes)
    )
})

/**
 * `RTMPDispatchV2`, declared.
 *
 * @since 0.1.0
 * @category declarations
 */
export const dispatchV2: ServerApi.Declaration<Request, Dispatched, DispatchError> = declare(
  "RTMPDispatchV2",
  UrlsData,
  decodeUrls,
  (requestId, streamId, type, nodes) => ({ requestId, streamId, type, nodes })
)
/**
 * `RTMPDispatch`, declared.
 *
 * @since 0.1.0
 * @category declarations
 */
export const dispatchV1: ServerApi.Declaration<Request, DispatchedAddresses, DispatchError> = declare(
  "RTMPDispatch",
  AddressesData,
  decodeAddresses,
  (requestId, streamId, type, addresses) => ({ requestId, streamId, type, addresses })
)

/**
 * Builds the service; fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const serverSecret = Redacted.make("secret")
 * const program = Effect.gen(function*() {
 *   const dispatch = yield* RtmpDispatch.make({ appId: 1234567890, serverSecret, baseUrl: "http://127.0.0.1:1" })
 *   return yield* dispatch.dispatch({ streamId: "s1", type: "pull" })
 * })
 * Effect.runPromise(program.pipe(Effect.provide(ZegoMock.layer({ appId: 1234567890, serverSecret }))))
 *   .then((dispatched) => console.log(dispatched.nodes.length))
 * // Output: 1
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, InvalidRequestError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const engine = yield* Engine.make(options)
    return RtmpDispatch.of({
      appId: engine.appId,
      baseUrl: engine.baseUrl,
      dispatch: yield* engine.bind(dispatchV2),
      dispatchAddresses: yield* engine.bind(dispatchV1)
    })
  })

const layers = Engine.layers(RtmpDispatch, make, ServerApi.configFromEnv)

/**
 * The service as a layer; it needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // On any runtime with `fetch`; on Node.js, @effect-zego/node gives a keep-alive client.
 * const DispatchLive = RtmpDispatch.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<RtmpDispatch, InvalidRequestError, HttpClient.HttpClient> =
  layers.layer

/**
 * The service as a layer, its options read through Effect `Config` (by default {@link configFromEnv}).
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Config from "effect/Config"
 * import * as Layer from "effect/Layer"
 *
 * // From ZEGO_APP_ID, ZEGO_SERVER_SECRET, …
 * const FromEnv = RtmpDispatch.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
 *
 * // Or from variables of your own.
 * const FromOwn = RtmpDispatch.layerConfig({
 *   appId: Config.integer("MY_APP_ID"),
 *   serverSecret: Config.redacted("MY_SERVER_SECRET")
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config?: Config.Config.Wrap<Options>
) => Layer.Layer<RtmpDispatch, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> =
  layers.layerConfig
