/**
 * The clients compared: ours (`RtmpDispatch.dispatch` through the node layer, with or without a shared budget) and
 * the baselines. Every client builds the same signed query (same parameters, a fresh nonce and timestamp per
 * request) and checks the answer (`Code` 0, a non-empty `Data` of RTMP URLs), so that the comparison is fair.
 */
import type { RateLimit } from "@effect-zego/core"
import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import * as Http from "node:http"
import { Agent, request } from "undici"
import { Samples } from "./stats.js"

export const APP_ID = 1540531164
export const STREAM_ID = "caodantest"
export const NODE_URL = "rtmp://81.69.49.115:1935/1540531164/caodantest"
const SAMPLE_CAPACITY = 400_000

/** What one client did in one time slice. */
export interface Slice {
  readonly count: number
  readonly failures: number
  readonly firstFailure: string | undefined
  readonly elapsedMillis: number
  readonly latencies: Float64Array
}

export interface Client {
  readonly name: string
  /** Runs `concurrency` loops of requests for `millis`; the loops start no request after that. */
  readonly run: (concurrency: number, millis: number) => Promise<Slice>
  readonly close: () => Promise<void>
}

const checkEnvelope = (status: number, json: unknown): void => {
  const envelope = json as { Code?: unknown; Data?: unknown } | null
  if (
    status !== 200 || typeof envelope !== "object" || envelope === null || envelope.Code !== 0 ||
    !Array.isArray(envelope.Data) || envelope.Data.length === 0 ||
    !envelope.Data.every((url) => typeof url === "string" && url.startsWith("rtmp://"))
  ) throw new Error(`unexpected answer: HTTP ${status} ${JSON.stringify(json).slice(0, 200)}`)
}

/** The path and query of one signed call, signed with `node:crypto` md5. */
const signedPath = (secret: string): string => {
  const nonce = randomBytes(8).toString("hex")
  const timestamp = Math.floor(Date.now() / 1000)
  const signature = createHash("md5").update(`${APP_ID}${nonce}${secret}${timestamp}`).digest("hex")
  return `/?Action=RTMPDispatchV2&StreamId=${STREAM_ID}&Sequence=${Date.now()}&Type=pull&AppId=${APP_ID}` +
    `&SignatureNonce=${nonce}&Timestamp=${timestamp}&SignatureVersion=2.0&Signature=${signature}`
}

/** Runs `concurrency` promise loops of `one` until the deadline. */
export const runLoops = async (one: () => Promise<void>, concurrency: number, millis: number): Promise<Slice> => {
  const latencies = new Samples(SAMPLE_CAPACITY)
  let failures = 0
  let firstFailure: string | undefined
  const started = performance.now()
  const deadline = started + millis
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        await one()
        latencies.push(performance.now() - t0)
      } catch (error) {
        failures++
        firstFailure ??= String(error)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return {
    count: latencies.count,
    failures,
    firstFailure,
    elapsedMillis: performance.now() - started,
    latencies: latencies.values()
  }
}

/**
 * (a) The limit: undici as fast as it goes, `dispatch` on a keep-alive `Agent` (default options, as the node layers'
 * own) with a plain handler, the API undici's `request` and `fetch` are built on and the one ours uses; the chunks
 * joined, JSON parsed and checked by hand. No `Readable`, no promise per chunk, no timer of its own.
 */
export const rawDispatch = (baseUrl: string, secret: string): Client => {
  const agent = new Agent()
  const headers = ["accept", "application/json"]
  const one = () =>
    new Promise<void>((resolve, reject) => {
      let status = 0
      const chunks: Array<Buffer> = []
      agent.dispatch({ origin: baseUrl, path: signedPath(secret), method: "GET", headers }, {
        onConnect: () => {},
        onHeaders: (statusCode) => {
          status = statusCode
          return true
        },
        onData: (chunk) => {
          chunks.push(chunk)
          return true
        },
        onComplete: () => {
          try {
            checkEnvelope(status, JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString()))
            resolve()
          } catch (error) {
            reject(error)
          }
        },
        onError: reject
      })
    })
  return { name: "raw undici", run: (c, ms) => runLoops(one, c, ms), close: () => agent.close() }
}

/**
 * undici's `request` over a keep-alive `Agent`, JSON parsed and checked by hand: the limit of the earlier benches,
 * slower than {@link rawDispatch} by its `Readable` body and promises.
 */
export const rawUndici = (baseUrl: string, secret: string, name = "raw undici"): Client => {
  const agent = new Agent()
  const one = async () => {
    const response = await request(baseUrl + signedPath(secret), { dispatcher: agent })
    checkEnvelope(response.statusCode, JSON.parse(await response.body.text()))
  }
  return { name, run: (c, ms) => runLoops(one, c, ms), close: () => agent.close() }
}

/**
 * (a) with a budget on Redis, by hand: before each request, the shared budget's script through ioredis to acquire
 * (awaited), after it the same script to release (not awaited), with `EVALSHA` as ioredis's `defineCommand` sends
 * them. `redis` runs the store's own Lua, so that Redis does the same work for both.
 */
export const rawUndiciWithRedis = (
  baseUrl: string,
  secret: string,
  redis: RawBudget
): Client => {
  const agent = new Agent()
  const one = async () => {
    const member = await redis.acquire()
    try {
      const response = await request(baseUrl + signedPath(secret), { dispatcher: agent })
      checkEnvelope(response.statusCode, JSON.parse(await response.body.text()))
    } finally {
      redis.release(member).catch(() => {})
    }
  }
  return { name: "undici+ioredis", run: (c, ms) => runLoops(one, c, ms), close: () => agent.close() }
}

/** The shared budget's script run by hand (see `redisBudget.ts`): acquire resolves with the call's member. */
export interface RawBudget {
  readonly acquire: () => Promise<string>
  readonly release: (member: string) => Promise<unknown>
}

/** (b) The global `fetch` (the undici bundled with Node.js, keep-alive). */
export const globalFetch = (baseUrl: string, secret: string): Client => {
  const one = async () => {
    const response = await fetch(baseUrl + signedPath(secret))
    checkEnvelope(response.status, await response.json())
  }
  return { name: "fetch", run: (c, ms) => runLoops(one, c, ms), close: async () => {} }
}

/**
 * (c) ZEGOCLOUD's Node.js sample: `md5(appId + nonce + secret + timeStamp)` with `node:crypto`, the URL built by
 * hand, and one `http.get` per call without keep-alive.
 */
export const samplePattern = (baseUrl: string, secret: string): Client => {
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const signatureNonce = randomBytes(8).toString("hex")
      const timeStamp = Math.round(Date.now() / 1000)
      const hash = createHash("md5")
      hash.update(APP_ID + signatureNonce + secret + timeStamp)
      const sig = hash.digest("hex")
      const url = `${baseUrl}/?Action=RTMPDispatchV2&StreamId=${STREAM_ID}&Sequence=${Date.now()}&Type=pull` +
        `&AppId=${APP_ID}&SignatureNonce=${signatureNonce}&Timestamp=${timeStamp}&Signature=${sig}` +
        `&SignatureVersion=2.0`
      Http.get(url, { agent: false, timeout: 10_000 }, (res) => {
        let data = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => data += chunk)
        res.on("error", reject)
        res.on("end", () => {
          try {
            checkEnvelope(res.statusCode ?? 0, JSON.parse(data))
            resolve()
          } catch (error) {
            reject(error)
          }
        })
      }).on("timeout", function(this: Http.ClientRequest) {
        this.destroy(new Error("timeout"))
      }).on("error", reject)
    })
  return { name: "zego sample", run: (c, ms) => runLoops(one, c, ms), close: async () => {} }
}

/**
 * Ours: `RtmpDispatch.dispatch` through `NodeRtmpDispatch.layerOptions`, its loops running as fibers; `store` (say
 * `RedisRateLimit.layer`) holds the budget when given.
 */
export const ours = async (
  name: string,
  options: {
    readonly baseUrl: string
    readonly secret: string
    readonly rateLimit: RtmpDispatch.Options["rateLimit"]
    readonly store?: Layer.Layer<RateLimit.RateLimitStore, unknown> | undefined
  }
): Promise<Client> => {
  const dispatch = NodeRtmpDispatch.layerOptions({
    appId: APP_ID,
    serverSecret: Redacted.make(options.secret),
    baseUrl: options.baseUrl,
    rateLimit: options.rateLimit
  })
  const runtime = ManagedRuntime.make(options.store === undefined ? dispatch : Layer.provide(dispatch, options.store))
  const service = await runtime.runPromise(RtmpDispatch.RtmpDispatch)
  const request = { streamId: STREAM_ID, type: "pull" } as const
  const run = (concurrency: number, millis: number) =>
    runtime.runPromise(Effect.suspend(() => {
      const latencies = new Samples(SAMPLE_CAPACITY)
      let failures = 0
      let firstFailure: string | undefined
      const started = performance.now()
      const deadline = started + millis
      const one = Effect.suspend(() => {
        const t0 = performance.now()
        return Effect.match(service.dispatch(request), {
          onFailure: (error) => {
            failures++
            firstFailure ??= String(error)
          },
          onSuccess: (dispatched) => {
            if (dispatched.nodes[0].url === NODE_URL) {
              latencies.push(performance.now() - t0)
            } else {
              failures++
              firstFailure ??= `unexpected node ${dispatched.nodes[0].url}`
            }
          }
        })
      })
      const loop = Effect.whileLoop({ while: () => performance.now() < deadline, body: () => one, step: () => {} })
      return Effect.all(Array.from({ length: concurrency }, () => loop), { concurrency: "unbounded", discard: true })
        .pipe(Effect.map((): Slice => ({
          count: latencies.count,
          failures,
          firstFailure,
          elapsedMillis: performance.now() - started,
          latencies: latencies.values()
        })))
    }))
  return { name, run, close: () => runtime.dispose() }
}
