/**
 * @effect-zego/core: ZEGOCLOUD RTMP dispatch, and the server APIs around a stream (its state, forbidding and
 * resuming it, announcing it in a room, relaying it to a CDN), as Effect services.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Effect from "effect/Effect"
 *
 * // A publish node for OBS, on any runtime with `fetch` (ZEGO_APP_ID and ZEGO_SERVER_SECRET from the environment).
 * const program = Effect.gen(function*() {
 *   const dispatch = yield* RtmpDispatch.RtmpDispatch
 *   const { nodes } = yield* dispatch.dispatch({ streamId: "room1-host", type: "push" })
 *   return { server: nodes[0].obsServer, streamKey: nodes[0].obsStreamKey }
 * })
 * const main = program.pipe(Effect.provide(RtmpDispatch.layerConfig()), Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 */
/**
 * The action table: every server action's parameters, `Sequence`, rate limits and codes, one row each.
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * const limit = Actions.table.ForbidRTCStream.limit.production
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Actions from "./Actions.js"
/**
 * ZEGOCLOUD's server callbacks (`stream_create`, `stream_close`, and any other event): their signature, their
 * events and their decoding.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Redacted from "effect/Redacted"
 *
 * const signature = Callback.signature(Redacted.make("callback-secret"), "1470820198", "123412")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Callback from "./Callback.js"
/**
 * The errors of receiving a callback, one per answer (400, 401, 503, or a 2xx for a replay).
 *
 * @example
 * ```ts
 * import { CallbackError } from "@effect-zego/core"
 *
 * const status = (error: CallbackError.CallbackError): number => error._tag === "CallbackReplayError" ? 200 : 400
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as CallbackError from "./CallbackError.js"
/**
 * Where a callback receiver keeps nonces for the freshness window, to refuse replays: in memory, or shared.
 *
 * @example
 * ```ts
 * import { CallbackNonceStore } from "@effect-zego/core"
 * import * as Layer from "effect/Layer"
 *
 * const NoncesLive = Layer.effect(CallbackNonceStore.CallbackNonceStore, CallbackNonceStore.memoryNonceStore())
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as CallbackNonceStore from "./CallbackNonceStore.js"
/**
 * The callback receiver: parses, verifies (signature, freshness, nonce) and decodes ZEGOCLOUD's server callbacks.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 *
 * const ReceiverLive = CallbackReceiver.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as CallbackReceiver from "./CallbackReceiver.js"
/**
 * A capability an `HttpClient` may carry so that `RtmpDispatch` hands it a whole attempt at once.
 *
 * @example
 * ```ts
 * import { DirectExchange } from "@effect-zego/core"
 *
 * const carriesIt = (client: Parameters<typeof DirectExchange.get>[0]) => DirectExchange.get(client) !== undefined
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as DirectExchange from "./DirectExchange.js"
/**
 * The HTTP endpoints a backend mounts to follow its OBS streams, as an `@effect/platform` `HttpRouter`.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 *
 * assert.strictEqual(Endpoints.defaultPaths.ingest, "/obs/ingest")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Endpoints from "./Endpoints.js"
/**
 * The response envelope every ZEGOCLOUD server API call answers with, whatever the outcome.
 *
 * @example
 * ```ts
 * import { Envelope } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.decodeSync(Envelope.EnvelopeFromJson)(`{"Code":0}`).Code, 0)
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Envelope from "./Envelope.js"
/**
 * Schemas of the parameters of an RTMP dispatch call.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.regionBaseUrl("hkg"), "https://rtc-api-hkg.zego.im")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Params from "./Params.js"
/**
 * The client-side rate limit.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-zego/core"
 *
 * assert.strictEqual(RateLimit.defaultRateLimit.limit, 40)
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RateLimit from "./RateLimit.js"
/**
 * Announcing a stream in a room and withdrawing it (`AddStream`, `DeleteStream`).
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 *
 * assert.strictEqual(RoomStreams.defaultServerUserId, "Server-Administrator")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RoomStreams from "./RoomStreams.js"
/**
 * The RTMP dispatch service.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * const DispatchLive = RtmpDispatch.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RtmpDispatch from "./RtmpDispatch.js"
/**
 * The nodes a dispatch returns.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 *
 * assert.strictEqual(RtmpNode.parseRtmpUrl("rtmp://127.0.0.1/live/s1")?.streamName, "s1")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RtmpNode from "./RtmpNode.js"
/**
 * What every server API service shares: its options, the per-call options, the config readers, the limits, the
 * default retry schedule and the declaration an action is.
 *
 * @example
 * ```ts
 * import { ServerApi } from "@effect-zego/core"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toHours(ServerApi.MAX_DURATION), 1)
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as ServerApi from "./ServerApi.js"
/**
 * The ZEGOCLOUD server API signature (version 2.0) and the public parameters that carry it.
 *
 * @example
 * ```ts
 * import { Signature } from "@effect-zego/core"
 *
 * assert.strictEqual(Signature.SIGNATURE_VERSION, "2.0")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Signature from "./Signature.js"
/**
 * Forbidding and resuming a stream (`ForbidRTCStream`, `ResumeRTCStream`).
 *
 * @example
 * ```ts
 * import { StreamControl } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const stop = Effect.flatMap(StreamControl.StreamControl, (control) => control.forbid("s1"))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamControl from "./StreamControl.js"
/**
 * Restreaming to a third-party CDN (`CreatCDNTransferRule`, `DeleteCDNTransferRule`, `ClearCDNTransferRule`).
 *
 * @example
 * ```ts
 * import { StreamRelay } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const restream = Effect.flatMap(StreamRelay.StreamRelay, (relay) => relay.start("s1", "rtmp://cdn.example.com/live/key"))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamRelay from "./StreamRelay.js"
/**
 * The state of a stream (`DescribeRTCStreamState`).
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const state = Effect.flatMap(StreamState.StreamState, (s) => s.describe("s1"))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamState from "./StreamState.js"
/**
 * What each stream is now, from verified callbacks and `DescribeRTCStreamState`.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 *
 * const TrackerLive = StreamTracker.layer({ maxAge: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamTracker from "./StreamTracker.js"
/**
 * Values from outside (a server's answer, a caller's input, a config file) made safe to quote.
 *
 * @example
 * ```ts
 * import { Untrusted } from "@effect-zego/core"
 *
 * assert.strictEqual(Untrusted.escapeText("a\u001b"), "a\\x1b")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Untrusted from "./Untrusted.js"
/**
 * The errors of the ZEGOCLOUD server API calls.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const handled = Effect.fail(new ZegoError.InvalidRequestError({ parameter: "streamId", detail: "empty" })).pipe(
 *   Effect.catchTag("InvalidRequestError", (error) => Effect.succeed(error.parameter))
 * )
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as ZegoError from "./ZegoError.js"
