/**
 * @effect-zego/node: the Node.js layers of @effect-zego/core.
 */
export * as NodeRtmpDispatch from "./NodeRtmpDispatch.js"
export * as NodeZego from "./NodeZego.js"
export * as NodeZegoHttpClient from "./NodeZegoHttpClient.js"
