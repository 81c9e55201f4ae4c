/**
 * Every service of the core on Node.js (`RtmpDispatch`, `StreamState`, `StreamControl`, `RoomStreams`) over one
 * {@link NodeZegoHttpClient}: one layer, one keep-alive agent, one `Effect.provide` for a backend that dispatches,
 * watches, stops and announces its streams.
 *
 * One layer for the four rather than a `Node…` module per service: the services share their options (AppId,
 * secret, region, …) and should share their connections, and a program that uses only some of them pays nothing
 * for the others but building them (no connection is opened until a call). `NodeRtmpDispatch` stays for a program
 * that only dispatches.
 *
 * @since 0.1.0
 */
import { RoomStreams, RtmpDispatch, StreamControl, StreamState } from "@effect-zego/core"
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
    RoomStreams.layer(options)
  )

/**
 * The four services with options given in code, over one client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOptions = (options: Options): Layer.Layer<Services, ZegoError.InvalidRequestError> =>
  services(options).pipe(Layer.provide(layerHttpClient))

/**
 * The four services with options read through Effect `Config` (read once), over one client.
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
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Services, ConfigError.ConfigError | ZegoError.InvalidRequestError> = layerConfig(
  RtmpDispatch.configFromEnv
)
