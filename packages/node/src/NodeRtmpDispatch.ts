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
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // The core layer over the node client, as `layerOptions` builds it.
 * const DispatchLive = RtmpDispatch.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(NodeRtmpDispatch.layerHttpClient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient> = NodeZegoHttpClient.layer

/**
 * `RtmpDispatch` configured from `ZEGO_APP_ID`, `ZEGO_SERVER_SECRET`, `ZEGO_REGION`, `ZEGO_BASE_URL`, `ZEGO_IS_TEST`.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import * as Effect from "effect/Effect"
 *
 * // ZEGO_APP_ID=… ZEGO_SERVER_SECRET=… node main.js
 * const program = Effect.gen(function*() {
 *   const dispatch = yield* RtmpDispatch.RtmpDispatch
 *   const { nodes } = yield* dispatch.dispatch({ streamId: "room1-host", type: "push" })
 *   yield* Effect.log(`OBS server ${nodes[0].obsServer}, stream key ${nodes[0].obsStreamKey}`)
 * })
 * const main = program.pipe(Effect.provide(NodeRtmpDispatch.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<RtmpDispatch.RtmpDispatch, ConfigError.ConfigError | ZegoError.InvalidRequestError> =
  RtmpDispatch.layerConfig().pipe(Layer.provide(layerHttpClient))

/**
 * `RtmpDispatch` with options given in code.
 *
 * @example
 * ```ts
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import * as Redacted from "effect/Redacted"
 *
 * const DispatchLive = NodeRtmpDispatch.layerOptions({
 *   appId: 1234567890,
 *   serverSecret: Redacted.make("secret"),
 *   region: "sgp"
 * })
 * ```
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
 * @example
 * ```ts
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import * as Config from "effect/Config"
 *
 * const DispatchLive = NodeRtmpDispatch.layerConfig({
 *   appId: Config.integer("MY_APP_ID"),
 *   serverSecret: Config.redacted("MY_SERVER_SECRET"),
 *   isTest: Config.succeed(true)
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<RtmpDispatch.Options>
): Layer.Layer<RtmpDispatch.RtmpDispatch, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  RtmpDispatch.layerConfig(config).pipe(Layer.provide(layerHttpClient))
