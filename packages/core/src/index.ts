/**
 * @effect-zego/core: ZEGOCLOUD RTMP dispatch, and the server APIs around a stream (its state, forbidding and
 * resuming it, announcing it in a room), as Effect services.
 *
 * @since 0.1.0
 */
/**
 * ZEGOCLOUD's server callbacks (`stream_create`, `stream_close`, and any other event).
 *
 * @since 0.1.0
 * @category modules
 */
export * as Callback from "./Callback.js"
/**
 * A capability an `HttpClient` may carry so that `RtmpDispatch` hands it a whole attempt at once.
 *
 * @since 0.1.0
 * @category modules
 */
export * as DirectExchange from "./DirectExchange.js"
/**
 * The HTTP endpoints a backend mounts to follow its OBS streams, as an `@effect/platform` `HttpRouter`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Endpoints from "./Endpoints.js"
/**
 * The response envelope every ZEGOCLOUD server API call answers with, whatever the outcome.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Envelope from "./Envelope.js"
/**
 * Schemas of the parameters of an RTMP dispatch call.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Params from "./Params.js"
/**
 * The client-side rate limit.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RateLimit from "./RateLimit.js"
/**
 * Announcing a stream in a room and withdrawing it (`AddStream`, `DeleteStream`).
 *
 * @since 0.1.0
 * @category modules
 */
export * as RoomStreams from "./RoomStreams.js"
/**
 * The RTMP dispatch service.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RtmpDispatch from "./RtmpDispatch.js"
/**
 * The nodes a dispatch returns.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RtmpNode from "./RtmpNode.js"
/**
 * The ZEGOCLOUD server API signature (version 2.0) and the public parameters that carry it.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Signature from "./Signature.js"
/**
 * Forbidding and resuming a stream (`ForbidRTCStream`, `ResumeRTCStream`).
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamControl from "./StreamControl.js"
/**
 * The state of a stream (`DescribeRTCStreamState`).
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamState from "./StreamState.js"
/**
 * What each stream is now, from verified callbacks and `DescribeRTCStreamState`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as StreamTracker from "./StreamTracker.js"
/**
 * Values from outside (a server's answer, a caller's input, a config file) made safe to quote.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Untrusted from "./Untrusted.js"
/**
 * The errors of the ZEGOCLOUD server API calls.
 *
 * @since 0.1.0
 * @category modules
 */
export * as ZegoError from "./ZegoError.js"
