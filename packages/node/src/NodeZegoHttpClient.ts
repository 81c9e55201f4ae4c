/**
 * The `HttpClient` of the node layers: undici's keep-alive `Agent`, and on it the core's `DirectExchange`, which
 * `RtmpDispatch` uses for a whole attempt: one `dispatch` on the agent with a plain handler, the time limit a
 * timer inside the request, the body read up to the size cap (a `content-length` past it is refused before any of
 * the body is read), interruption aborting the request (its connection closed). No `HttpClientRequest`,
 * `HttpClientResponse`, `URL`, `AbortSignal`, `Readable` or extra fiber is made per call.
 *
 * Anything else (`execute`, `get`, … or the client after `transformClient` or any `HttpClient` combinator) goes
 * through `@effect/platform-node`'s undici client over the same agent.
 *
 * @since 0.1.0
 */
import { DirectExchange } from "@effect-zego/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Undici from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const HEADERS = ["accept", "application/json"]
const decoder = new TextDecoder()

/** A header's value as undici parses it: latin1, several joined with `, `. */
const headerValue = (value: Buffer | string | Array<Buffer | string>): string =>
  typeof value === "string"
    ? value
    : Array.isArray(value)
    ? value.map(headerValue).join(", ")
    : value.toString("latin1")

const isHeader = (name: Buffer | string, lower: string): boolean => {
  if (name.length !== lower.length) return false
  return (typeof name === "string" ? name : name.toString("latin1")).toLowerCase() === lower
}

/**
 * One exchange, as undici's dispatch handler (the callback interface undici itself runs on: `request()` is built
 * on it). It ends once: `done` is called by the first of the response, an error, the timer or the cap; a cancel
 * ends it without calling `done`. An exchange ended before the request has a socket aborts it as soon as it has.
 */
class Exchange {
  private abortRequest: ((reason?: Error) => void) | undefined = undefined
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private done: ((result: DirectExchange.Result) => void) | undefined
  private status = 0
  private date: string | undefined = undefined
  private chunks: Array<Buffer> = []
  private size = 0

  constructor(private readonly maxBytes: number, done: (result: DirectExchange.Result) => void) {
    this.done = done
  }

  start(timeoutMillis: number | undefined): void {
    if (timeoutMillis !== undefined) {
      this.timer = setTimeout(() => this.end({ _tag: "Timeout" }, "the time limit passed"), timeoutMillis)
    }
  }

  /** Ends the exchange with `result` (none: cancelled) and aborts the request if it still runs. */
  end(result: DirectExchange.Result | undefined, why?: string): void {
    const done = this.done
    if (done === undefined) return
    this.done = undefined
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.chunks = []
    if (why !== undefined || result === undefined) this.abortRequest?.(new Error(why ?? "cancelled"))
    if (result !== undefined) done(result)
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.done === undefined) abort(new Error("cancelled"))
    else this.abortRequest = abort
  }

  onHeaders(statusCode: number, rawHeaders: Array<Buffer | string>): boolean {
    // 1xx are informational; the response follows.
    if (statusCode < 200 || this.done === undefined) return true
    this.status = statusCode
    let length: string | undefined
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!
      if (isHeader(name, "date")) {
        const value = headerValue(rawHeaders[i + 1]!)
        this.date = this.date === undefined ? value : `${this.date}, ${value}`
      } else if (isHeader(name, "content-length")) {
        const value = headerValue(rawHeaders[i + 1]!)
        length = length === undefined ? value : `${length}, ${value}`
      }
    }
    if (Number(length ?? NaN) > this.maxBytes) {
      this.end({ _tag: "TooLarge", status: statusCode }, "the body is too large")
      return false
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.done === undefined) return false
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      this.end({ _tag: "TooLarge", status: this.status }, "the body is too large")
      return false
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete(): void {
    if (this.done === undefined) return
    const chunks = this.chunks
    const body = chunks.length === 1 ? decoder.decode(chunks[0]) : decoder.decode(Buffer.concat(chunks, this.size))
    this.end({ _tag: "Response", status: this.status, date: this.date, body })
  }

  onError(error: Error): void {
    this.end({ _tag: "Failed", reason: this.status === 0 ? "Transport" : "Decode", cause: error })
  }
}

/**
 * The core's `DirectExchange` over an undici dispatcher.
 *
 * @example
 * ```ts
 * import { NodeZegoHttpClient } from "@effect-zego/node"
 * import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
 * import * as Effect from "effect/Effect"
 *
 * const exchange = Effect.map(NodeHttpClient.makeDispatcher, NodeZegoHttpClient.makeDirectExchange)
 * Effect.runPromise(Effect.scoped(exchange)).then((direct) => assert.strictEqual(typeof direct.get, "function"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDirectExchange = (dispatcher: Undici.Dispatcher): DirectExchange.DirectExchange => ({
  get: (request, done) => {
    const exchange = new Exchange(request.maxBodyBytes, done)
    exchange.start(request.timeoutMillis)
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: "GET",
          headers: HEADERS,
          // The time limit is the timer above (or the caller's); undici's own would only cut it shorter.
          headersTimeout: 60 * 60 * 1000,
          bodyTimeout: 0
        },
        exchange as unknown as Undici.Dispatcher.DispatchHandler
      )
    } catch (error) {
      exchange.onError(error instanceof Error ? error : new Error(String(error)))
    }
    return () => exchange.end(undefined)
  }
})

/**
 * An `HttpClient` over an undici dispatcher: `@effect/platform-node`'s undici client for `execute`, carrying the
 * core's `DirectExchange` for `RtmpDispatch`.
 *
 * @example
 * ```ts
 * import { DirectExchange } from "@effect-zego/core"
 * import { NodeZegoHttpClient } from "@effect-zego/node"
 * import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
 * import * as Effect from "effect/Effect"
 *
 * // The client carries the direct exchange `RtmpDispatch` looks for.
 * const client = Effect.map(NodeHttpClient.makeDispatcher, NodeZegoHttpClient.make)
 * Effect.runPromise(Effect.scoped(client)).then((c) => assert.notStrictEqual(DirectExchange.get(c), undefined))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient =>
  Object.assign(NodeHttpClient.makeUndici(dispatcher), { [DirectExchange.TypeId]: makeDirectExchange(dispatcher) })

/**
 * The client over a dispatcher provided as `NodeHttpClient.Dispatcher`.
 *
 * @example
 * ```ts
 * import { NodeZegoHttpClient } from "@effect-zego/node"
 * import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * // On undici's global dispatcher (shared with `fetch`) instead of an agent of its own.
 * const ClientLive = NodeZegoHttpClient.layerWithoutDispatcher.pipe(Layer.provide(NodeHttpClient.dispatcherLayerGlobal))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutDispatcher: Layer.Layer<HttpClient.HttpClient, never, NodeHttpClient.Dispatcher> = Layer
  .effect(HttpClient.HttpClient, Effect.map(NodeHttpClient.Dispatcher, make))

/**
 * The client with its own undici `Agent` (keep-alive, default options), destroyed with the layer.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import { NodeZegoHttpClient } from "@effect-zego/node"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // Any core service over the node client.
 * const StreamStateLive = StreamState.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(NodeZegoHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.map(NodeHttpClient.makeDispatcher, make)
)
