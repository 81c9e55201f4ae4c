/**
 * The callback path with its stores on Redis against the same path in memory: `POST /zego/callback` of
 * `Endpoints.router` on a real HTTP server on loopback (in the bench's process), one signed `stream_create` or
 * `stream_close` at a time (concurrency 1), each with a fresh nonce and the next `stream_seq` of one of 16 streams,
 * so that every callback is applied to the tracker (a write of its entry: with the tracker on Redis, decided on the
 * store's copy of it) and its nonce committed (with both stores on one Redis, by the same script as the write). Each
 * answer is checked (200, applied, not a replay).
 */
import type { CallbackNonceStore, StreamState } from "@effect-zego/core"
import { Callback, CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { RedisNonceStore, RedisTrackerStore } from "@effect-zego/redis"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { Agent, request } from "undici"
import type { Client } from "./clients.js"
import { runLoops } from "./clients.js"

const SECRET = Redacted.make("bench-callback-secret")
const APP_ID = "1540531164"
const STREAMS = 16

/** Where a variant keeps its nonces and its streams: in memory (the receiver's and the tracker's defaults), or not. */
export interface Stores {
  readonly nonces?: Layer.Layer<CallbackNonceStore.CallbackNonceStore, unknown> | undefined
  /** The tracker, on a store of its own (as `RedisTrackerStore.layer` builds it). */
  readonly tracker?: Layer.Layer<StreamTracker.StreamTracker, unknown, StreamState.StreamState> | undefined
  /**
   * Awaited before the endpoints run, on every request: the floor's one raw round trip to Redis (the stores stay in
   * memory).
   */
  readonly before?: (() => Promise<unknown>) | undefined
}

/** The endpoints with `stores`, served on a free port of 127.0.0.1 until `close`. */
const serve = async (stores: Stores) => {
  const receiver = stores.nonces === undefined
    ? CallbackReceiver.layer({ secret: SECRET })
    : CallbackReceiver.layer({ secret: SECRET }).pipe(Layer.provide(stores.nonces))
  const router = Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })
  const before = stores.before
  const handler = before === undefined ? router : Effect.zipRight(Effect.promise(before), router)
  const app = HttpServer.serve(handler).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
    Layer.provideMerge(Layer.mergeAll(stores.tracker ?? StreamTracker.layer(), receiver)),
    Layer.provideMerge(ZegoMock.layerServices({ appId: Number(APP_ID), serverSecret: Redacted.make("unused") })),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
  const runtime = ManagedRuntime.make(app)
  const address = (await runtime.runPromise(HttpServer.HttpServer)).address as HttpServer.TcpAddress
  return { url: `http://127.0.0.1:${address.port}${Endpoints.defaultPaths.callback}`, close: () => runtime.dispose() }
}

/** The next signed callback: for each stream in turn, a create then a close, each with the next `stream_seq`. */
const callbacks = () => {
  let n = 0
  return () => {
    const stream = n % STREAMS
    const seq = Math.floor(n / STREAMS) + 1
    n++
    const nonce = randomBytes(8).toString("hex")
    const timestamp = String(Math.floor(Date.now() / 1000))
    const now = String(Date.now())
    const common = {
      appid: APP_ID,
      timestamp,
      nonce,
      signature: Callback.signature(SECRET, timestamp, nonce),
      stream_id: `bench-${stream}`,
      room_id: "bench-room",
      room_session_id: "858012925204410400",
      stream_seq: String(seq)
    }
    return JSON.stringify(
      seq % 2 === 1
        ? { ...common, event: "stream_create", create_time_ms: now }
        : { ...common, event: "stream_close", type: "0", destroy_timemillis: now }
    )
  }
}

/** A client posting one callback at a time to the endpoints served with `stores`. */
export const callbackClient = async (name: string, stores: Stores): Promise<Client> => {
  const server = await serve(stores)
  const agent = new Agent()
  const next = callbacks()
  const one = async () => {
    const response = await request(server.url, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json" },
      body: next()
    })
    const text = await response.body.text()
    if (response.statusCode !== 200 || text !== "{\"ok\":true}") {
      throw new Error(`unexpected answer: HTTP ${response.statusCode} ${text.slice(0, 200)}`)
    }
  }
  return {
    name,
    run: (c, ms) => runLoops(one, c, ms),
    close: async () => {
      await agent.close()
      await server.close()
    }
  }
}

/** The Redis nonce store on `url` as a layer. */
export const redisNonces = (url: string) => RedisNonceStore.layer({ url, keyPrefix: `bench-nonce-${Date.now()}:` })

/** The tracker on the Redis tracker store on `url`, as a layer. */
export const redisTracker = (url: string) =>
  RedisTrackerStore.layer({ url, keyPrefix: `bench-tracker-${Date.now()}-${Math.random()}:` })

/**
 * One raw ioredis round trip, as a nonce claim makes it: `SET key value PX 10000 NX` on a key of its own each time,
 * on a plain client (its defaults) of `url`, until `close`.
 */
export const rawRoundTrip = (url: string) => {
  const redis = new Redis(url)
  const prefix = `bench-floor-${Date.now()}:`
  let n = 0
  return {
    once: async (): Promise<void> => {
      if (await redis.set(`${prefix}${++n}`, "p", "PX", 10_000, "NX") !== "OK") {
        throw new Error("the raw SET was refused")
      }
    },
    close: () => redis.disconnect()
  }
}
