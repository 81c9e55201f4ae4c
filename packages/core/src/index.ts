/**
 * @effect-zego/core: ZEGOCLOUD RTMP dispatch as an Effect service.
 */
export * as DirectExchange from "./DirectExchange.js"
export * as Envelope from "./Envelope.js"
export * as Params from "./Params.js"
export * as RateLimit from "./RateLimit.js"
export * as RtmpDispatch from "./RtmpDispatch.js"
export * as RtmpNode from "./RtmpNode.js"
export * as Signature from "./Signature.js"
export * as Untrusted from "./Untrusted.js"
export * as ZegoError from "./ZegoError.js"
