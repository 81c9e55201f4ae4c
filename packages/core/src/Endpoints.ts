/**
 * The HTTP endpoints a backend mounts to follow its OBS streams, as an `@effect/platform` `HttpRouter`:
 *
 * - `POST /zego/callback`: ZEGOCLOUD's server callbacks, verified, decoded and applied to the `StreamTracker`; 2xx
 *   only once the event is applied (or was already: a replayed nonce whose event was applied), 401 for a bad
 *   signature or a stale timestamp, 400 for a body that is not a callback, 503 while another delivery of the same
 *   callback is still being applied, when the nonce store cannot take it or the tracker's store cannot be reached
 *   (ZEGOCLOUD retries; the nonce is given back), 500 when the event could not be applied otherwise (its nonce is
 *   given back too, so that the retry is applied), 413 for a body past the
 *   receiver's `maxBodyBytes`. A body that declares its length is answered before it is read; one sent in chunks
 *   is read and dropped up to 1 MiB past the cap, then answered 413. A longer one is not read further: the answer
 *   says `Connection: close`, but on Node the connection is reset, so its sender sees an error, not the 413.
 * - `POST /obs/ingest`: a publish node for the stream id the app's `authorize` decides (nothing is served without
 *   it), as `{ server, streamKey, url, useBy }` for OBS.
 * - `GET /streams/:streamId`: the tracker's status of a stream (re-checked with the server when unknown or old), to
 *   anyone unless the app's `authorizeRead` says otherwise; with `"stale": true` when the tracker's store cannot be
 *   reached and this instance answers what it last knew; 503 when too many re-checks are already pending, or the
 *   store cannot be reached and this instance knows nothing of the stream.
 *
 * The router needs `RtmpDispatch`, `StreamTracker` and `CallbackReceiver`; serve it with any `HttpServer`.
 *
 * @since 0.1.0
 */
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as CallbackError from "./CallbackError.js"
import * as CallbackReceiver from "./CallbackReceiver.js"
import * as BoundedBody from "./internal/boundedBody.js"
import { isIpv4, isStreamId } from "./Params.js"
import * as RtmpDispatch from "./RtmpDispatch.js"
import * as StreamTracker from "./StreamTracker.js"

/**
 * The default paths.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 *
 * assert.strictEqual(Endpoints.defaultPaths.callback, "/zego/callback")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPaths = {
  callback: "/zego/callback",
  ingest: "/obs/ingest",
  streams: "/streams/:streamId"
} as const

/**
 * How long OBS has to start publishing after an ingest: ZEGOCLOUD's dispatched URLs are valid for 2 hours.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 *
 * const useBy = new Date(Date.now() + Endpoints.INGEST_VALIDITY_MILLIS)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const INGEST_VALIDITY_MILLIS = 2 * 60 * 60 * 1000

/**
 * Options of {@link router}.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * // A signed-in user publishes as `user-<id>` and reads only their own stream; behind a proxy, the client's address
 * // is in its header.
 * const options: Endpoints.Options = {
 *   authorize: (request) =>
 *     Effect.succeed(Option.map(Option.fromNullable(request.headers["x-user-id"]), (id) => `user-${id}`)),
 *   authorizeRead: (request, streamId) => Effect.succeed(streamId === `user-${request.headers["x-user-id"]}`),
 *   clientIp: (request) => request.headers["x-real-ip"]
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<R = never> {
  /**
   * Decides whether the request may get a publish node, and for which stream id: `Option.none()` refuses (403).
   * Authenticate the caller here (a session, a token): the answer lets its bearer publish as that stream.
   */
  readonly authorize: (
    request: HttpServerRequest.HttpServerRequest
  ) => Effect.Effect<Option.Option<string>, never, R>
  /**
   * Decides whether the request may read the status of `streamId` (`GET /streams/:streamId`): `false` refuses (403)
   * and asks nothing of ZEGOCLOUD. Default: anyone may read any stream, and each unknown id costs a
   * `DescribeRTCStreamState` call (at most the tracker's `maxPendingRechecks` pending at once, shared with every other
   * reader): guard reads here when the ids or the budget are not everyone's business.
   */
  readonly authorizeRead?:
    | ((request: HttpServerRequest.HttpServerRequest, streamId: string) => Effect.Effect<boolean, never, R>)
    | undefined
  /**
   * The publisher's IPv4 address sent as `clientIp` (ZEGOCLOUD picks a node near it). Default: the connection's
   * remote address when it is IPv4 (an IPv4-mapped IPv6 address unwrapped); behind a proxy, read its header here.
   */
  readonly clientIp?: ((request: HttpServerRequest.HttpServerRequest) => string | undefined) | undefined
  /** Other paths than {@link defaultPaths} (the streams path must keep its `:streamId`). */
  readonly paths?: {
    readonly callback?: `/${string}` | undefined
    readonly ingest?: `/${string}` | undefined
    readonly streams?: `/${string}` | undefined
  } | undefined
}

/**
 * What `POST /obs/ingest` answers: OBS's two fields, the whole URL, and until when to start publishing.
 *
 * @example
 * ```ts
 * import type { Endpoints } from "@effect-zego/core"
 *
 * const obsSettings = (ingest: Endpoints.Ingest): string => `Server: ${ingest.server}\nStream key: ${ingest.streamKey}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Ingest {
  readonly server: string
  readonly streamKey: string
  readonly url: string
  /** ISO 8601: the dispatch's time + 2 hours. */
  readonly useBy: string
}

/**
 * The IPv4 address in a socket's remote address (`::ffff:a.b.c.d` unwrapped); `undefined` for IPv6 or junk.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 *
 * assert.strictEqual(Endpoints.ipv4Of("::ffff:203.0.113.7"), "203.0.113.7")
 * assert.strictEqual(Endpoints.ipv4Of("2001:db8::1"), undefined)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const ipv4Of = (address: string | undefined): string | undefined => {
  if (address === undefined) return undefined
  const unwrapped = address.toLowerCase().startsWith("::ffff:") ? address.slice(7) : address
  return isIpv4(unwrapped) ? unwrapped : undefined
}

const remoteIpv4 = (request: HttpServerRequest.HttpServerRequest): string | undefined =>
  ipv4Of(Option.getOrUndefined(request.remoteAddress))

const problem = (status: number, error: string, message: string, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson({ error, message }, { status, ...(headers === undefined ? {} : { headers }) })

// --- POST /zego/callback --------------------------------------------------------------------------------------

const callbackStatus: Record<CallbackError.CallbackError["_tag"], number> = {
  CallbackSignatureError: 401,
  CallbackExpiredError: 401,
  CallbackDecodeError: 400,
  CallbackUnavailableError: 503,
  CallbackReplayError: 200
}

/** 413; `Connection: close` when the body was left unread, so the connection cannot serve another request. */
const tooLarge = (max: number, unread = false) =>
  problem(
    413,
    "CallbackDecodeError",
    `the body is larger than ${max} bytes`,
    unread ? { connection: "close" } : undefined
  )

const OK = HttpServerResponse.unsafeJson({ ok: true })
const REPLAY = HttpServerResponse.unsafeJson({ ok: true, replay: true })
const DIGITS = /^[0-9]{1,15}$/

/**
 * The body, read up to the receiver's cap. One that declares its length is answered 413 before it is read when
 * that is past the cap, and otherwise read in one piece (the HTTP parser reads no more than the declared length,
 * and the platform's `MaxBodySize` caps it as well). Any other is read from its stream: past the cap (a chunked body
 * declares no length) the rest is read and dropped up to a bound, so that its sender gets its 413 too.
 */
const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<Uint8Array | HttpServerResponse.HttpServerResponse> => {
  const declared = request.headers["content-length"]
  if (declared !== undefined && DIGITS.test(declared)) {
    if (Number(declared) > maxBytes) return Effect.succeed(tooLarge(maxBytes))
    return request.arrayBuffer.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
      Effect.match({
        onFailure: () => unreadable,
        // The Node server gives a Buffer (a Uint8Array), a web one an ArrayBuffer.
        onSuccess: (bytes): Uint8Array => bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
      })
    )
  }
  return BoundedBody.read(request.stream, maxBytes).pipe(
    Effect.match({
      onFailure: () => unreadable,
      onSuccess: (body) => body._tag === "TooLarge" ? tooLarge(maxBytes, !body.drained) : body.bytes
    })
  )
}

const unreadable = problem(400, "CallbackDecodeError", "the body could not be read to its end")

/** The answer to a callback that was not received (a replay of an applied one is a 2xx). */
const refused = (error: CallbackError.CallbackError) => {
  // A replay of an event that was applied and committed: say so, so that ZEGOCLOUD stops.
  if (error._tag === "CallbackReplayError") return Effect.succeed(REPLAY)
  return Effect.as(
    Effect.logDebug(error.message),
    problem(callbackStatus[error._tag], error._tag, error.message)
  )
}

const isCallbackError = (error: unknown): error is CallbackError.CallbackError =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" &&
  Object.hasOwn(callbackStatus, error._tag)

/** The answer to a callback whose event could not be applied (its nonce was given back: the retry gets through). */
const notApplied = (cause: Cause.Cause<StreamTracker.TrackerUnavailableError>) => {
  // The tracker's store is down or slow: a 503, as for the nonce store (ZEGOCLOUD retries, and the retry is let in).
  const unavailable = Cause.failureOption(cause)
  if (Option.isSome(unavailable)) {
    return Effect.as(
      Effect.logWarning(unavailable.value.message),
      problem(503, unavailable.value._tag, unavailable.value.message, { "retry-after": "1" })
    )
  }
  return Effect.as(
    Effect.logError("a callback could not be applied; ZEGOCLOUD will retry it", cause),
    problem(500, "CallbackNotApplied", "the event could not be applied; retry")
  )
}

/**
 * The tracker's apply with the callback's nonce settled (`Receiver.receiveAndApply`): one wait for both stores (with
 * both on one Redis, one round trip: the tracker's write commits the nonce). 2xx only when the event was applied: a
 * replay's 2xx when an earlier delivery had been; 503 when the nonce store failed (or, with a store that claims beside
 * the apply, another delivery is applying it); the event not applied (failed or interrupted): no nonce kept, 503 or
 * 500, so that ZEGOCLOUD's retry is applied.
 *
 * The apply runs before it is known whether the delivery is a replay, so it may run for a replay, for a delivery that
 * another is still applying, or while the nonce store is down. That is harmless because `StreamTracker.apply` changes
 * nothing for an event its entry already holds or has moved past: the ordering rule (`StreamTracker.supersedes`)
 * refuses the same key (same kind at the same seq, or the same time), and an older event after newer ones (a smaller
 * seq, an earlier time, a create older than the close), so no write is made and no change published. It holds while
 * the tracker still holds the stream's entry with that event's key or a later one: an entry forgotten (the in-memory
 * store past its capacity) or turned `absent` by a 41004 re-check has no key, and a replay of its create inside the
 * freshness window shows it live again until its next re-check, as a retry after a failed commit always could. The
 * tracker's apply is the only thing a callback triggers (subscribers of `changes` hear of a change once, from its
 * write).
 */
const applyAndSettle = (
  receiver: CallbackReceiver.Receiver,
  tracker: StreamTracker.Service,
  incoming: CallbackReceiver.Incoming
) =>
  receiver.receiveAndApply(incoming, tracker.applyDelivery).pipe(
    Effect.matchCauseEffect({
      onSuccess: () => Effect.succeed(OK),
      onFailure: (cause) => {
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure) && isCallbackError(failure.value)) return refused(failure.value)
        return notApplied(cause as Cause.Cause<StreamTracker.TrackerUnavailableError>)
      }
    })
  )

// Plain steps, no generator: this runs once per callback.
const receiveCallback = Effect.contextWithEffect((
  context: Context.Context<
    HttpServerRequest.HttpServerRequest | CallbackReceiver.CallbackReceiver | StreamTracker.StreamTracker
  >
) => {
  const request = Context.get(context, HttpServerRequest.HttpServerRequest)
  const receiver = Context.get(context, CallbackReceiver.CallbackReceiver)
  const tracker = Context.get(context, StreamTracker.StreamTracker)
  return Effect.flatMap(readBody(request, receiver.maxBodyBytes), (body) => {
    if (!(body instanceof Uint8Array)) return Effect.succeed(body)
    return applyAndSettle(receiver, tracker, { body, contentType: request.headers["content-type"] })
  })
})

// --- POST /obs/ingest -----------------------------------------------------------------------------------------

const dispatchStatus = (error: RtmpDispatch.DispatchError): number => {
  switch (error._tag) {
    case "InvalidRequestError":
      return 400
    case "RateLimitedError":
    case "DispatchFailedError":
    case "TransportError":
      return 503
    default:
      return 502
  }
}

const ingest = <R>(options: Options<R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const zego = yield* RtmpDispatch.RtmpDispatch
    // Nothing is served unless the app says who may publish as what.
    const decided = typeof options.authorize === "function" ? yield* options.authorize(request) : Option.none()
    if (Option.isNone(decided)) return problem(403, "Forbidden", "this request may not get a publish node")
    const clientIp = (options.clientIp ?? remoteIpv4)(request)
    const dispatched = yield* zego.dispatch(
      clientIp === undefined ? { streamId: decided.value, type: "push" } : {
        streamId: decided.value,
        type: "push",
        clientIp
      }
    ).pipe(Effect.either)
    if (dispatched._tag === "Left") {
      const error = dispatched.left
      yield* Effect.logWarning(error.message)
      return problem(
        dispatchStatus(error),
        error._tag,
        error.message,
        error._tag === "RateLimitedError" ? { "retry-after": "1" } : undefined
      )
    }
    const node = dispatched.right.nodes[0]
    const now = yield* Clock.currentTimeMillis
    const answer: Ingest = {
      server: node.obsServer,
      streamKey: node.obsStreamKey,
      url: node.url,
      useBy: new Date(now + INGEST_VALIDITY_MILLIS).toISOString()
    }
    return HttpServerResponse.unsafeJson(answer)
  })

// --- GET /streams/:streamId -----------------------------------------------------------------------------------

/**
 * A status as JSON: its times as ISO 8601 strings, `stale` (when set) as `true`.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 *
 * const json = Endpoints.statusJson({ state: "absent", streamId: "s1", source: "describe", checkedAt: new Date(0) })
 * assert.deepStrictEqual(json, { state: "absent", streamId: "s1", source: "describe", checkedAt: "1970-01-01T00:00:00.000Z" })
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const statusJson = (status: StreamTracker.Status): Record<string, string | boolean> => {
  const json: Record<string, string | boolean> = {}
  for (const key of Object.keys(status)) {
    const value = status[key as keyof StreamTracker.Status]
    json[key] = value instanceof Date ? value.toISOString() : typeof value === "boolean" ? value : String(value)
  }
  return json
}

const statusAnswer = (tracker: StreamTracker.Service, streamId: string) =>
  Effect.match(tracker.get(streamId), {
    onFailure: (error) => problem(503, error._tag, error.message, { "retry-after": "1" }),
    onSuccess: (status) =>
      status === undefined
        ? HttpServerResponse.unsafeJson({ streamId, state: "unknown" }, { status: 404 })
        : HttpServerResponse.unsafeJson(statusJson(status))
  })

// Plain steps, no generator: this runs once per read.
const streamStatus = <R>(options: Options<R>) =>
  Effect.contextWithEffect((
    context: Context.Context<
      StreamTracker.StreamTracker | HttpRouter.RouteContext | HttpServerRequest.HttpServerRequest
    >
  ) => {
    const tracker = Context.get(context, StreamTracker.StreamTracker)
    const { streamId } = Context.get(context, HttpRouter.RouteContext).params
    if (streamId === undefined || !isStreamId(streamId)) {
      return Effect.succeed(
        problem(400, "InvalidRequestError", "the stream id must be 1 to 256 ASCII letters, digits, '-' or '_'")
      )
    }
    if (options.authorizeRead === undefined) return statusAnswer(tracker, streamId)
    // Open by default; a guard that is not a function (from JavaScript) refuses rather than opens.
    const allowed = typeof options.authorizeRead === "function"
      ? options.authorizeRead(Context.get(context, HttpServerRequest.HttpServerRequest), streamId)
      : Effect.succeed(false)
    return Effect.flatMap(allowed, (allowed) =>
      allowed
        ? statusAnswer(tracker, streamId)
        : Effect.succeed(problem(403, "Forbidden", "this request may not read this stream's status")))
  })

/**
 * The three endpoints as one router, to serve or to mount in the app's own. `GET /streams/:streamId` answers anyone
 * unless `authorizeRead` is given.
 *
 * @example
 * ```ts
 * import { Endpoints } from "@effect-zego/core"
 * import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * // Mounted under /api in the app's own router; serve it with any HttpServer (NodeHttpServer, say), with
 * // RtmpDispatch, StreamTracker and CallbackReceiver provided.
 * const app = HttpRouter.empty.pipe(
 *   HttpRouter.mount("/api", Endpoints.router({ authorize: () => Effect.succeed(Option.some("studio-1")) }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category routers
 */
export const router = <R = never>(options: Options<R>) => {
  const paths = {
    callback: options.paths?.callback ?? defaultPaths.callback,
    ingest: options.paths?.ingest ?? defaultPaths.ingest,
    streams: options.paths?.streams ?? defaultPaths.streams
  }
  return HttpRouter.empty.pipe(
    HttpRouter.post(paths.callback, receiveCallback),
    HttpRouter.post(paths.ingest, ingest(options)),
    HttpRouter.get(paths.streams, streamStatus(options))
  )
}
