/**
 * @effect-zego/node: the Node.js layers of @effect-zego/core.
 *
 * @since 0.1.0
 */
/**
 * `RtmpDispatch` on Node.js.
 *
 * @since 0.1.0
 * @category modules
 */
export * as NodeRtmpDispatch from "./NodeRtmpDispatch.js"
/**
 * Every service of the core on Node.js (`RtmpDispatch`, `StreamState`, `StreamControl`, `RoomStreams`) over
 * one `NodeZegoHttpClient`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as NodeZego from "./NodeZego.js"
/**
 * The `HttpClient` of the node layers.
 *
 * @since 0.1.0
 * @category modules
 */
export * as NodeZegoHttpClient from "./NodeZegoHttpClient.js"
