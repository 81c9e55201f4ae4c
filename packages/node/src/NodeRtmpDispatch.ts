/**
 * `RtmpDispatch` on Node.js: the core service over {@link NodeZegoHttpClient} (undici, keep-alive connections, each
 * attempt handed to the client whole), so that a program runs with one `Effect.provide`. Any other `HttpClient`
 * (`NodeHttpClient.layerUndici`, a user's) works through `RtmpDispatch.layer`.
 *
 * @since 0.1.0
 */
import { RtmpDispatch } from "@effect-zego/core"
import type { ZegoError } from "@effect-zego/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as NodeZegoHttpClient from "./NodeZegoHttpClient.js"

/**
 * The lean undici `HttpClient` ({@link NodeZegoHttpClient.layer}) with its own keep-alive agent, closed with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient> = NodeZegoHttpClient.layer

/**
 * `RtmpDispatch` configured from `ZEGO_APP_ID`, `ZEGO_SERVER_SECRET`, `ZEGO_REGION`, `ZEGO_BASE_URL`, `ZEGO_IS_TEST`.
 *
 * @since 0.1.0
 * @category errors
 */
export const layer: Layer.Layer<RtmpDispatch.RtmpDispatch, ConfigError.ConfigError | ZegoError.InvalidRequestError> =
  RtmpDispatch.layerConfig().pipe(Layer.provide(layerHttpClient))

/**
 * `RtmpDispatch` with options given in code.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOptions = (
  options: RtmpDispatch.Options
): Layer.Layer<RtmpDispatch.RtmpDispatch, ZegoError.InvalidRequestError> =>
  RtmpDispatch.layer(options).pipe(Layer.provide(layerHttpClient))

/**
 * `RtmpDispatch` with options read through Effect `Config`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<RtmpDispatch.Options>
): Layer.Layer<RtmpDispatch.RtmpDispatch, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  RtmpDispatch.layerConfig(config).pipe(Layer.provide(layerHttpClient))
