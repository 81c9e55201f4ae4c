/**
 * A mock `HttpClient` that speaks the ZEGOCLOUD protocol, for tests (ours and our users').
 *
 * It parses every request, checks the public parameters and the signature against the configured secret (a
 * wrong one is a defect that names what differs: it means the caller signs wrongly, not that the server said
 * no), answers `100000004` with a `Date` header when the timestamp is more than 10 minutes off its clock,
 * records the requests, and answers from a script of replies or a handler. It speaks every action of this library,
 * checking each one's own parameters (those it requires, `Sequence` where one is due, the byte limits); by default
 * a success carries the `sampleData` of the action's row: a dispatch one node on loopback, `DescribeRTCStreamState`
 * an active stream, `DescribeSimpleStreamList` an empty room, the others no `Data`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Actions from "./Actions.js"
import * as Params from "./Params.js"
import type { Action } from "./Params.js"
import * as RoomStreams from "./RoomStreams.js"
import * as RtmpDispatch from "./RtmpDispatch.js"
import * as Signature from "./Signature.js"
import * as StreamControl from "./StreamControl.js"
import * as StreamRelay from "./StreamRelay.js"
import * as StreamState from "./StreamState.js"
import type { InvalidRequestError } from "./ZegoError.js"

/**
 * A request as the mock received it.
 *
 * @example
 * ```ts
 * import type { ZegoMock } from "@effect-zego/core/testing"
 *
 * const streamIds = (requests: ReadonlyArray<ZegoMock.RecordedRequest>) => requests.map((r) => r.params.StreamId)
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export interface RecordedRequest {
  readonly action: Action
  /** Every query parameter, public ones included. */
  readonly params: Readonly<Record<string, string>>
  /** The `RequestId` the mock answers with: `mock-1`, `mock-2`, … */
  readonly requestId: string
  /** When the request arrived, by the `Clock`, in milliseconds. */
  readonly receivedAt: number
}

/**
 * What the mock answers.
 *
 * @example
 * ```ts
 * import { ZegoMock } from "@effect-zego/core/testing"
 *
 * // A busy server, then a success.
 * const script: ReadonlyArray<ZegoMock.Reply> = [ZegoMock.code(1010, "too many calls"), ZegoMock.success()]
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export type Reply =
  | {
    readonly _tag: "Envelope"
    readonly code: number
    readonly message: string
    /** Default: for a success, the `sampleData` of the action's row (a dispatch: one node on loopback); else none. */
    readonly data?: unknown
    readonly status: number
    readonly headers?: Readonly<Record<string, string>>
  }
  | { readonly _tag: "Raw"; readonly status: number; readonly body: string; readonly headers?: Record<string, string> }
  | { readonly _tag: "NetworkError"; readonly detail: string }
  | { readonly _tag: "Delay"; readonly duration: Duration.DurationInput; readonly reply: Reply }

/**
 * A success; `data` defaults to the `sampleData` of the action's row: for a dispatch, one loopback node for the
 * request's stream (URL for V2, `host:port` for V1).
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const MockLive = ZegoMock.layerDispatch({
 *   appId: 1234567890,
 *   serverSecret: Redacted.make("secret"),
 *   script: [ZegoMock.success(["rtmp://203.0.113.7:1935/live/s1", "rtmp://203.0.113.8:1935/live/s1"])]
 * })
 * const program = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s1", type: "pull" }))
 * Effect.runPromise(program.pipe(Effect.provide(MockLive))).then(({ nodes }) => assert.strictEqual(nodes.length, 2))
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const success = (data?: unknown): Reply => ({
  _tag: "Envelope",
  code: 0,
  message: "ok",
  status: 200,
  ...(data === undefined ? {} : { data })
})

/**
 * An envelope with a non-zero return code (HTTP 200, as the real server answers).
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const MockLive = ZegoMock.layerDispatch({
 *   appId: 1234567890,
 *   serverSecret: Redacted.make("secret"),
 *   script: [ZegoMock.code(1002, "no publish node")]
 * })
 * const program = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s1", type: "push" })).pipe(
 *   Effect.flip
 * )
 * Effect.runPromise(program.pipe(Effect.provide(MockLive))).then((e) => assert.strictEqual(e._tag, "NoPublishNodeError"))
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const code = (code: number, message = `mock error ${code}`, options?: {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
}): Reply => ({
  _tag: "Envelope",
  code,
  message,
  status: options?.status ?? 200,
  ...(options?.headers ? { headers: options.headers } : {})
})

/**
 * A raw HTTP answer, e.g. a 502 page or a body that is not JSON.
 *
 * @example
 * ```ts
 * import { ZegoMock } from "@effect-zego/core/testing"
 *
 * // What a proxy in front of the API may answer.
 * const badGateway = ZegoMock.raw(502, "<html>502 Bad Gateway</html>", { "content-type": "text/html" })
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const raw = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  _tag: "Raw",
  status,
  body,
  ...(headers ? { headers } : {})
})

/**
 * The connection fails (refused, reset).
 *
 * @example
 * ```ts
 * import { ZegoMock } from "@effect-zego/core/testing"
 *
 * // The connection fails once, then the retry succeeds.
 * const script = [ZegoMock.networkError(), ZegoMock.success()]
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const networkError = (detail = "connection reset by mock"): Reply => ({ _tag: "NetworkError", detail })

/**
 * Answers `reply` after `duration` (of the `Clock`: under `TestClock`, adjust it).
 *
 * @example
 * ```ts
 * import { ZegoMock } from "@effect-zego/core/testing"
 *
 * // Slower than the default 5-second attempt limit: under `TestClock`, adjust the clock past it.
 * const slow = ZegoMock.delay("6 seconds", ZegoMock.success())
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const delay = (duration: Duration.DurationInput, reply: Reply): Reply => ({ _tag: "Delay", duration, reply })

/**
 * Options of the mock.
 *
 * @example
 * ```ts
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Redacted from "effect/Redacted"
 *
 * // Every pull finds no node; every push succeeds.
 * const options: ZegoMock.Options = {
 *   appId: 1234567890,
 *   serverSecret: Redacted.make("secret"),
 *   handler: (request) => request.params.Type === "pull" ? ZegoMock.code(1003) : ZegoMock.success()
 * }
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export interface Options {
  readonly appId: number
  readonly serverSecret: Redacted.Redacted<string>
  /** Replies in order, one per request; a request past the end is a defect. */
  readonly script?: ReadonlyArray<Reply> | undefined
  /** Computes each reply (used when there is no script). Default: {@link success}. */
  readonly handler?: ((request: RecordedRequest) => Reply | Effect.Effect<Reply>) | undefined
  /** How far the mock server's clock is ahead of the `Clock` (to test skew correction). Default 0. */
  readonly serverClockOffset?: Duration.DurationInput | undefined
}

/**
 * The recorded requests.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.gen(function*() {
 *   const dispatch = yield* RtmpDispatch.RtmpDispatch
 *   yield* dispatch.dispatch({ streamId: "s1", type: "push" })
 *   const mock = yield* ZegoMock.ZegoMock
 *   return yield* mock.requests
 * })
 * Effect.runPromise(
 *   program.pipe(Effect.provide(ZegoMock.layerDispatch({ appId: 1234567890, serverSecret: Redacted.make("secret") })))
 * ).then((requests) => assert.deepStrictEqual(requests.map((r) => r.action), ["RTMPDispatchV2"]))
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export class ZegoMock extends Context.Tag("@effect-zego/core/ZegoMock")<ZegoMock, {
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
}>() {}

const MAX_SKEW_SECONDS = 600

/** A success's `Data` by default: the sample of the action's row (see `Actions.Row.sampleData`), if it has one. */
const defaultData = (request: RecordedRequest): unknown => Actions.row(request.action).sampleData?.(request)

const encoder = new TextEncoder()

/** Checks the public parameters and the signature; a mismatch is a defect naming what differs. */
const verify = (options: Options, params: Readonly<Record<string, string>>): Action => {
  const fail = (what: string): never => {
    throw new Error(`ZegoMock: ${what}`)
  }
  if (!Schema.is(Params.Action)(params.Action)) {
    fail(`Action is ${JSON.stringify(params.Action)}, expected one of ${Params.Action.literals.join(", ")}`)
  }
  const action = params.Action as Action
  // The action's parameters, `Sequence` and byte limits, as its row of the action table says.
  const row = Actions.row(action)
  for (const [name, parameter] of Object.entries(row.parameters)) {
    const value = params[name]
    if (parameter.required && (value === undefined || value === "")) fail(`${action} needs ${name}`)
    if (parameter.maxBytes !== undefined && value !== undefined && encoder.encode(value).length > parameter.maxBytes) {
      fail(`${name} is longer than ${parameter.maxBytes} UTF-8 bytes`)
    }
  }
  if (row.sequence && !/^\d{1,19}$/.test(params.Sequence ?? "")) {
    fail(`Sequence is ${JSON.stringify(params.Sequence)}, expected a non-negative Int64`)
  }
  if (params.CensorFlag !== undefined && params.CensorFlag !== "0" && params.CensorFlag !== "1") {
    fail(`CensorFlag is ${JSON.stringify(params.CensorFlag)}, expected 0 or 1`)
  }
  if (params.AppId !== String(options.appId)) {
    fail(`AppId is ${JSON.stringify(params.AppId)}, expected "${options.appId}"`)
  }
  if (params.SignatureVersion !== Signature.SIGNATURE_VERSION) {
    fail(`SignatureVersion is ${JSON.stringify(params.SignatureVersion)}, expected "2.0"`)
  }
  if (params.SignatureNonce === undefined || params.SignatureNonce === "") fail("SignatureNonce is missing")
  if (params.Timestamp === undefined || !/^\d+$/.test(params.Timestamp)) {
    fail(`Timestamp is ${JSON.stringify(params.Timestamp)}, expected Unix seconds`)
  }
  const expected = Signature.sign({
    appId: options.appId,
    nonce: params.SignatureNonce!,
    serverSecret: options.serverSecret,
    timestamp: Number(params.Timestamp)
  })
  if (params.Signature !== expected) {
    fail(
      `Signature is ${JSON.stringify(params.Signature)}, but md5(AppId + SignatureNonce + secret + Timestamp) ` +
        `for AppId=${params.AppId}, SignatureNonce=${params.SignatureNonce}, Timestamp=${params.Timestamp} and the ` +
        `configured secret is ${expected}: the signer used another secret, nonce or timestamp`
    )
  }
  return action
}

const respond = (
  request: HttpClientRequest.HttpClientRequest,
  recorded: RecordedRequest,
  reply: Reply,
  date: string
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  switch (reply._tag) {
    case "Delay":
      return Effect.zipRight(Effect.sleep(reply.duration), respond(request, recorded, reply.reply, date))
    case "NetworkError":
      return Effect.fail(
        new HttpClientError.RequestError({ request, reason: "Transport", description: reply.detail })
      )
    case "Raw":
      return Effect.succeed(HttpClientResponse.fromWeb(
        request,
        new Response(reply.body, { status: reply.status, headers: { date, ...reply.headers } })
      ))
    case "Envelope": {
      const data = "data" in reply ? reply.data : reply.code === 0 ? defaultData(recorded) : undefined
      const body = JSON.stringify({
        Code: reply.code,
        Message: reply.message,
        RequestId: recorded.requestId,
        ...(data === undefined ? {} : { Data: data })
      })
      return Effect.succeed(HttpClientResponse.fromWeb(
        request,
        new Response(body, {
          status: reply.status,
          headers: { "content-type": "application/json; charset=utf-8", date, ...reply.headers }
        })
      ))
    }
  }
}

/**
 * The mock `HttpClient` and the {@link ZegoMock} recorder.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // Your own layer over the mock client: the mock checks every signature with the same secret.
 * const serverSecret = Redacted.make("secret")
 * const TestLive = RtmpDispatch.layer({ appId: 1234567890, serverSecret, baseUrl: "http://127.0.0.1:1" })
 *   .pipe(Layer.provideMerge(ZegoMock.layer({ appId: 1234567890, serverSecret })))
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const layer = (options: Options): Layer.Layer<HttpClient.HttpClient | ZegoMock> =>
  Layer.effectContext(Effect.gen(function*() {
    const requests = yield* Ref.make<ReadonlyArray<RecordedRequest>>([])
    const script = yield* Ref.make(options.script)
    const offsetMillis = Duration.toMillis(options.serverClockOffset ?? 0)
    const handler = options.handler ?? (() => success())

    const nextReply = (recorded: RecordedRequest) =>
      Effect.flatMap(Ref.get(script), (remaining) => {
        if (remaining === undefined) {
          const reply = handler(recorded)
          return Effect.isEffect(reply) ? reply : Effect.succeed(reply)
        }
        const [next, ...rest] = remaining
        if (next === undefined) {
          return Effect.dieMessage(`ZegoMock: the script has no reply left for ${recorded.requestId}`)
        }
        return Effect.as(Ref.set(script, rest), next)
      })

    const client = HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const params = Object.fromEntries(url.searchParams)
        const action = yield* Effect.try({ try: () => verify(options, params), catch: (e) => e }).pipe(Effect.orDie)
        const receivedAt = yield* Clock.currentTimeMillis
        const requestId = `mock-${(yield* Ref.get(requests)).length + 1}`
        const recorded: RecordedRequest = { action, params, requestId, receivedAt }
        yield* Ref.update(requests, (all) => [...all, recorded])
        const now = receivedAt + offsetMillis
        const date = new Date(now).toUTCString()
        const skewed = Math.abs(Number(params.Timestamp) - now / 1000) > MAX_SKEW_SECONDS
        const reply = skewed
          ? code(100000004, "signature expired (timestamp too far from server time)")
          : yield* nextReply(recorded)
        return yield* respond(request, recorded, reply, date)
      })
    )
    return Context.make(HttpClient.HttpClient, client).pipe(
      Context.add(ZegoMock, { requests: Ref.get(requests) })
    )
  }))

/**
 * `RtmpDispatch` over the mock, with the same AppId and secret: what a user's test provides.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // In a test of your own code (with `it.effect` of @effect/vitest, say).
 * const TestLive = ZegoMock.layerDispatch({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * const program = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s1", type: "push" }))
 * Effect.runPromise(program.pipe(Effect.provide(TestLive))).then(({ nodes }) =>
 *   assert.strictEqual(nodes[0].url, "rtmp://127.0.0.1:1935/live/s1")
 * )
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const layerDispatch = (
  options: Options & { readonly dispatch?: Partial<RtmpDispatch.Options> | undefined }
): Layer.Layer<RtmpDispatch.RtmpDispatch | ZegoMock, InvalidRequestError> =>
  RtmpDispatch.layer({
    baseUrl: "http://127.0.0.1:1",
    ...options.dispatch,
    appId: options.appId,
    serverSecret: options.serverSecret
  }).pipe(Layer.provideMerge(layer(options)))

/**
 * Every service over the mock (one engine each, one mock client), with the same AppId and secret.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const TestLive = ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * const program = Effect.flatMap(StreamState.StreamState, (s) => s.describe("s1"))
 * Effect.runPromise(program.pipe(Effect.provide(TestLive))).then((state) => assert.strictEqual(state.state, "active"))
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const layerServices = (
  options: Options & { readonly services?: Partial<RoomStreams.Options> | undefined }
): Layer.Layer<
  | RtmpDispatch.RtmpDispatch
  | StreamState.StreamState
  | StreamControl.StreamControl
  | StreamRelay.StreamRelay
  | RoomStreams.RoomStreams
  | ZegoMock,
  InvalidRequestError
> => {
  const serviceOptions: RoomStreams.Options = {
    baseUrl: "http://127.0.0.1:1",
    ...options.services,
    appId: options.appId,
    serverSecret: options.serverSecret
  }
  return Layer.mergeAll(
    RtmpDispatch.layer(serviceOptions),
    StreamState.layer(serviceOptions),
    StreamControl.layer(serviceOptions),
    StreamRelay.layer(serviceOptions),
    RoomStreams.layer(serviceOptions)
  ).pipe(Layer.provideMerge(layer(options)))
}
