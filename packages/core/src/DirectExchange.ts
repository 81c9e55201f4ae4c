/**
 * A capability an `HttpClient` may carry so that `RtmpDispatch` hands it a whole attempt at once: one GET, its
 * time limit and its body cap enforced inside the client, the answer given by callback. A client built for it
 * (`NodeZegoHttpClient` of `@effect-zego/node`) then costs no `HttpClientRequest`, no `HttpClientResponse`, no
 * `AbortSignal` and no extra fiber per call.
 *
 * `RtmpDispatch` uses it only on the client it was given, untouched: a client that went through `transformClient`
 * (or any `HttpClient` combinator, which builds a new client object) goes through `HttpClient.execute`, and the
 * core then enforces the time limit and the body cap itself. The capability lives on the client object, never in
 * what is sent to the server.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"

/**
 * The key of the capability on a client object.
 *
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@effect-zego/core/DirectExchange")
/**
 * The type of {@link TypeId}.
 *
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * One GET, as `RtmpDispatch` asks for it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  /** `http://127.0.0.1:8080`, `https://rtc-api.zego.im`: the scheme, host and port. */
  readonly origin: string
  /** The path and the query, e.g. `/?Action=RTMPDispatchV2&…` (already encoded). */
  readonly path: string
  /** The time limit of the whole exchange (until the body is read), or `undefined` when the caller keeps it. */
  readonly timeoutMillis: number | undefined
  /** The largest body read: past it (or a `content-length` past it) the exchange stops with `TooLarge`. */
  readonly maxBodyBytes: number
}

/**
 * How an exchange ended.
 *
 * @since 0.1.0
 * @category models
 */
export type Result =
  | {
    readonly _tag: "Response"
    readonly status: number
    /** The `date` header (several joined with `, `), if any. */
    readonly date: string | undefined
    /** The body as UTF-8 text (a leading byte order mark removed, as `TextDecoder` does). */
    readonly body: string
  }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "TooLarge"; readonly status: number }
  /** `Transport`: no response; `Decode`: the response's body could not be read. */
  | { readonly _tag: "Failed"; readonly reason: "Transport" | "Decode"; readonly cause: unknown }

/**
 * What a client carrying the capability implements.
 *
 * @example
 * ```ts
 * import type { DirectExchange } from "@effect-zego/core"
 *
 * // An exchange that always answers the same envelope, at once.
 * const canned: DirectExchange.DirectExchange = {
 *   get: (_request, done) => {
 *     done({ _tag: "Response", status: 200, date: undefined, body: `{"Code":0,"Data":[]}` })
 *     return () => {}
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectExchange {
  /**
   * Starts a GET and calls `done` once with how it ended, unless the returned function is called first: that one
   * aborts the request (the connection is closed) and `done` is never called.
   */
  readonly get: (request: Request, done: (result: Result) => void) => () => void
}

/**
 * A client that carries the capability.
 *
 * @example
 * ```ts
 * import { DirectExchange } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as HttpClient from "@effect/platform/HttpClient"
 * import * as Effect from "effect/Effect"
 *
 * // Any client can be given the capability; `DirectExchange.get` then finds it.
 * const program = Effect.gen(function*() {
 *   const client = yield* HttpClient.HttpClient
 *   const direct: DirectExchange.DirectExchange = { get: (_request, done) => (done({ _tag: "Timeout" }), () => {}) }
 *   const withDirect: HttpClient.HttpClient & DirectExchange.WithDirectExchange = Object.assign(
 *     Object.create(client),
 *     { [DirectExchange.TypeId]: direct }
 *   )
 *   return DirectExchange.get(withDirect) === direct
 * })
 * Effect.runPromise(program.pipe(Effect.provide(FetchHttpClient.layer))).then((found) => assert.strictEqual(found, true))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WithDirectExchange {
  readonly [TypeId]: DirectExchange
}

/**
 * The capability of a client, if it carries one.
 *
 * @example
 * ```ts
 * import { DirectExchange } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as HttpClient from "@effect/platform/HttpClient"
 * import * as Effect from "effect/Effect"
 *
 * // The fetch client carries no direct exchange: RtmpDispatch goes through `HttpClient.execute`.
 * const program = Effect.map(HttpClient.HttpClient, DirectExchange.get)
 * Effect.runPromise(program.pipe(Effect.provide(FetchHttpClient.layer))).then((d) => assert.strictEqual(d, undefined))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const get = (client: HttpClient.HttpClient): DirectExchange | undefined => {
  const direct = (client as Partial<WithDirectExchange>)[TypeId]
  return typeof direct === "object" && direct !== null && typeof direct.get === "function" ? direct : undefined
}
