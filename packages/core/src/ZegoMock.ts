/**
 * A mock `HttpClient` that speaks the ZEGOCLOUD protocol, for tests (ours and our users').
 *
 * It parses every request, checks the public parameters and the signature against the configured secret (a
 * wrong one is a defect that names what differs: it means the caller signs wrongly, not that the server said
 * no), answers `100000004` with a `Date` header when the timestamp is more than 10 minutes off its clock,
 * records the requests, and answers from a script of replies or a handler (by default: one node on loopback).
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
import type { Action } from "./Params.js"
import * as RtmpDispatch from "./RtmpDispatch.js"
import * as Signature from "./Signature.js"
import type { InvalidRequestError } from "./ZegoError.js"

/** A request as the mock received it. */
export interface RecordedRequest {
  readonly action: Action
  /** Every query parameter, public ones included. */
  readonly params: Readonly<Record<string, string>>
  /** The `RequestId` the mock answers with: `mock-1`, `mock-2`, … */
  readonly requestId: string
  /** When the request arrived, by the `Clock`, in milliseconds. */
  readonly receivedAt: number
}

/** What the mock answers. */
export type Reply =
  | {
    readonly _tag: "Envelope"
    readonly code: number
    readonly message: string
    /** Default: nodes on loopback for the request's stream, for a success; nothing otherwise. */
    readonly data?: unknown
    readonly status: number
    readonly headers?: Readonly<Record<string, string>>
  }
  | { readonly _tag: "Raw"; readonly status: number; readonly body: string; readonly headers?: Record<string, string> }
  | { readonly _tag: "NetworkError"; readonly detail: string }
  | { readonly _tag: "Delay"; readonly duration: Duration.DurationInput; readonly reply: Reply }

/** A success; `data` defaults to one loopback node for the request's stream (URL for V2, `host:port` for V1). */
export const success = (data?: unknown): Reply => ({
  _tag: "Envelope",
  code: 0,
  message: "ok",
  status: 200,
  ...(data === undefined ? {} : { data })
})

/** An envelope with a non-zero return code (HTTP 200, as the real server answers). */
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

/** A raw HTTP answer, e.g. a 502 page or a body that is not JSON. */
export const raw = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  _tag: "Raw",
  status,
  body,
  ...(headers ? { headers } : {})
})

/** The connection fails (refused, reset). */
export const networkError = (detail = "connection reset by mock"): Reply => ({ _tag: "NetworkError", detail })

/** Answers `reply` after `duration` (of the `Clock`: under `TestClock`, adjust it). */
export const delay = (duration: Duration.DurationInput, reply: Reply): Reply => ({ _tag: "Delay", duration, reply })

/** Options of the mock. */
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

/** The recorded requests. */
export class ZegoMock extends Context.Tag("@effect-zego/core/ZegoMock")<ZegoMock, {
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
}>() {}

const MAX_SKEW_SECONDS = 600

const defaultData = (request: RecordedRequest): ReadonlyArray<string> => {
  const streamId = request.params.StreamId ?? "stream"
  return request.action === "RTMPDispatch" ? ["127.0.0.1:1935"] : [`rtmp://127.0.0.1:1935/live/${streamId}`]
}

/** Checks the public parameters and the signature; a mismatch is a defect naming what differs. */
const verify = (options: Options, params: Readonly<Record<string, string>>): Action => {
  const fail = (what: string): never => {
    throw new Error(`ZegoMock: ${what}`)
  }
  if (params.Action !== "RTMPDispatchV2" && params.Action !== "RTMPDispatch") {
    fail(`Action is ${JSON.stringify(params.Action)}, expected RTMPDispatchV2 or RTMPDispatch`)
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
  return params.Action as Action
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

/** The mock `HttpClient` and the {@link ZegoMock} recorder. */
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

/** `RtmpDispatch` over the mock, with the same AppId and secret: what a user's test provides. */
export const layerDispatch = (
  options: Options & { readonly dispatch?: Partial<RtmpDispatch.Options> | undefined }
): Layer.Layer<RtmpDispatch.RtmpDispatch | ZegoMock, InvalidRequestError> =>
  RtmpDispatch.layer({
    baseUrl: "http://127.0.0.1:1",
    ...options.dispatch,
    appId: options.appId,
    serverSecret: options.serverSecret
  }).pipe(Layer.provideMerge(layer(options)))
