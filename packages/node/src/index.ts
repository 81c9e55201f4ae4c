/**
 * @effect-zego/node: the Node.js layers of @effect-zego/core.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import * as Effect from "effect/Effect"
 *
 * // ZEGO_APP_ID=… ZEGO_SERVER_SECRET=… node main.js
 * const program = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "room1-host", type: "push" }))
 * const main = program.pipe(Effect.provide(NodeRtmpDispatch.layer))
 * ```
 *
 * @since 0.1.0
 */
/**
 * `RtmpDispatch` on Node.js.
 *
 * @example
 * ```ts
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 *
 * const DispatchLive = NodeRtmpDispatch.layer
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as NodeRtmpDispatch from "./NodeRtmpDispatch.js"
/**
 * Every service of the core on Node.js (`RtmpDispatch`, `StreamState`, `StreamControl`, `RoomStreams`) over
 * one `NodeZegoHttpClient`.
 *
 * @example
 * ```ts
 * import { NodeZego } from "@effect-zego/node"
 *
 * const ZegoLive = NodeZego.layer
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as NodeZego from "./NodeZego.js"
/**
 * The `HttpClient` of the node layers.
 *
 * @example
 * ```ts
 * import { NodeZegoHttpClient } from "@effect-zego/node"
 *
 * const ClientLive = NodeZegoHttpClient.layer
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as NodeZegoHttpClient from "./NodeZegoHttpClient.js"
