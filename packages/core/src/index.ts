/**
 * @effect-zego/core: ZEGOCLOUD RTMP dispatch, and the server APIs around a stream (its state, forbidding and
 * resuming it, announcing it in a room), as Effect services.
 */
export * as Callback from "./Callback.js"
export * as DirectExchange from "./DirectExchange.js"
export * as Endpoints from "./Endpoints.js"
export * as Envelope from "./Envelope.js"
export * as Params from "./Params.js"
export * as RateLimit from "./RateLimit.js"
export * as RoomStreams from "./RoomStreams.js"
export * as RtmpDispatch from "./RtmpDispatch.js"
export * as RtmpNode from "./RtmpNode.js"
export * as Signature from "./Signature.js"
export * as StreamControl from "./StreamControl.js"
export * as StreamState from "./StreamState.js"
export * as StreamTracker from "./StreamTracker.js"
export * as Untrusted from "./Untrusted.js"
export * as ZegoError from "./ZegoError.js"
