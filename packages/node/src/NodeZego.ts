/**
 * Every service of the core on Node.js (`RtmpDispatch`, `StreamState`, `StreamControl`, `StreamRelay`, `RoomStreams`)
 * over one {@link NodeZegoHttpClient}: one layer, one keep-alive agent, one `Effect.provide` for a backend that
 * dispatches, watches, stops, restreams and announces its streams.
 *
 * One layer for them all rather than a `Node…` module per service: the services share their options (AppId,
 * secret, region, …) and should share their connections, and a program that uses only some of them pays nothing
 * for the others but building them (no connection is opened until a call). `NodeRtmpDispatch` stays for a program
 * that only dispatches.
 *
 * @since 0.1.0
 */
import { RoomStreams, RtmpDispatch, StreamControl, StreamRelay, StreamState } from "@effect-zego/core"
import type { ZegoError } from "@effect-zego/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { layerHttpClient } from "./NodeRtmpDispatch.js"

/**
 * The services this layer provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | RtmpDispatch.RtmpDispatch
  | StreamState.StreamState
  | StreamControl.StreamControl
  | StreamRelay.StreamRelay
  | RoomStreams.RoomStreams

/**
 * The options of every service (and the server user of `RoomStreams`).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = RoomStreams.Options

const services = (options: Options) =>
  Layer.mergeAll(
    RtmpDispatch.layer(options),
    StreamState.layer(options),
    StreamControl.layer(options),
    StreamRelay.layer(options),
    RoomStreams.layer(options)
  )

/**
 * The four services with options given in code, over one client.
 *
 * @example
 * ```ts
 * import { NodeZego } from "@effect-zego/node"
 * import * as Redacted from "effect/Redacted"
 *
 * const ZegoLive = NodeZego.layerOptions({ appId: 1234567890, serverSecret: Redacted.make("secret"), isTest: true })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOptions = (options: Options): Layer.Layer<Services, ZegoError.InvalidRequestError> =>
  services(options).pipe(Layer.provide(layerHttpClient))

/**
 * The four services with options read through Effect `Config` (read once), over one client.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { NodeZego } from "@effect-zego/node"
 * import * as Config from "effect/Config"
 *
 * // The variables the core reads, plus a server user of your own for `RoomStreams`.
 * const ZegoLive = NodeZego.layerConfig(
 *   Config.map(RtmpDispatch.configFromEnv, (options) => ({ ...options, serverUserId: "backend" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<Services, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layerOptions))

/**
 * The four services configured from `ZEGO_APP_ID`, `ZEGO_SERVER_SECRET`, `ZEGO_REGION`, `ZEGO_BASE_URL`,
 * `ZEGO_IS_TEST`, `ZEGO_RATE_LIMIT` and `ZEGO_RATE_LIMIT_WINDOW` (a rate limit set there applies to every action).
 *
 * @example
 * ```ts
 * import { RtmpDispatch, StreamState } from "@effect-zego/core"
 * import { NodeZego } from "@effect-zego/node"
 * import * as Effect from "effect/Effect"
 *
 * // Dispatch, then ask whether OBS is live: one `Effect.provide` for both services.
 * const program = Effect.gen(function*() {
 *   const { nodes } = yield* Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s1", type: "push" }))
 *   yield* Effect.log(`publish to ${nodes[0].url}`)
 *   return yield* Effect.flatMap(StreamState.StreamState, (s) => s.describe("s1"))
 * })
 * const main = program.pipe(Effect.provide(NodeZego.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Services, ConfigError.ConfigError | ZegoError.InvalidRequestError> = layerConfig(
  RtmpDispatch.configFromEnv
)
