/**
 * What a dispatch costs without the network: the client CPU per call of `RtmpDispatch.dispatch` on a client whose
 * `DirectExchange` answers the canned envelope from `setImmediate` (no socket, no server), beside the raw loop's own
 * work (sign with `node:crypto`, parse, check) in a promise per call, and the same work inside one `Effect.async`
 * per call in a fiber loop (what any Effect per call costs at the least). The three run interleaved, `concurrency`
 * loops each, and the medians over rounds are reported.
 */
import { DirectExchange, RtmpDispatch } from "@effect-zego/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import { APP_ID, NODE_URL, STREAM_ID } from "./clients.js"
import { median, round } from "./stats.js"

const BODY = Buffer.from(JSON.stringify({ Code: 0, Message: "ok", RequestId: "1", Data: [NODE_URL] }))

export interface Figures {
  readonly concurrency: number
  readonly callsPerRound: number
  /** Client CPU per call (user + system), medians over rounds. */
  readonly rawMicros: number
  readonly effectAsyncMicros: number
  readonly oursMicros: number
}

/** The raw loop's work for one call, ending with the checked envelope. */
const rawWork = (secret: string, done: (envelope: unknown) => void): void => {
  const nonce = randomBytes(8).toString("hex")
  const timestamp = Math.floor(Date.now() / 1000)
  const signature = createHash("md5").update(`${APP_ID}${nonce}${secret}${timestamp}`).digest("hex")
  const path = `/?Action=RTMPDispatchV2&StreamId=${STREAM_ID}&Sequence=${Date.now()}&Type=pull&AppId=${APP_ID}` +
    `&SignatureNonce=${nonce}&Timestamp=${timestamp}&SignatureVersion=2.0&Signature=${signature}`
  setImmediate(() => {
    const envelope = JSON.parse(BODY.toString()) as { Code?: unknown; Data?: unknown }
    if (envelope.Code !== 0 || !Array.isArray(envelope.Data) || path.length === 0) throw new Error("unexpected")
    done(envelope)
  })
}

const cpuMicrosPerCall = async (calls: number, run: () => Promise<unknown>): Promise<number> => {
  globalThis.gc?.()
  const before = process.cpuUsage()
  await run()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / calls
}

export const run = async (
  options: { readonly secret: string; readonly concurrency: number; readonly calls: number; readonly rounds: number }
): Promise<Figures> => {
  const { calls, concurrency, secret } = options
  const direct: DirectExchange.DirectExchange = {
    get: (_request, done) => {
      setImmediate(() => done({ _tag: "Response", status: 200, date: undefined, body: BODY.toString() }))
      return () => {}
    }
  }
  const client = Object.assign(HttpClient.make(() => Effect.die("not used")), { [DirectExchange.TypeId]: direct })
  const runtime = ManagedRuntime.make(
    RtmpDispatch.layer({
      appId: APP_ID,
      serverSecret: Redacted.make(secret),
      baseUrl: "http://127.0.0.1:1",
      rateLimit: false
    }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))
  )
  const service = await runtime.runPromise(RtmpDispatch.RtmpDispatch)
  const request = { streamId: STREAM_ID, type: "pull" } as const
  const loops = <E>(n: number, one: Effect.Effect<unknown, E>) =>
    Effect.suspend(() => {
      let left = n
      const loop = Effect.whileLoop({ while: () => left-- > 0, body: () => one, step: () => {} })
      return Effect.all(Array.from({ length: concurrency }, () => loop), { concurrency: "unbounded", discard: true })
    })
  const ours = (n: number) => runtime.runPromise(loops(n, service.dispatch(request)))
  const effectAsync = (n: number) =>
    Effect.runPromise(loops(n, Effect.async<unknown>((resume) => rawWork(secret, (e) => resume(Effect.succeed(e))))))
  const raw = async (n: number) => {
    let left = n
    const one = () => new Promise<unknown>((resolve) => rawWork(secret, resolve))
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await one()
    }))
  }
  try {
    // Warm-up, then interleaved rounds.
    await ours(calls / 5)
    await effectAsync(calls / 5)
    await raw(calls / 5)
    const figures = { raw: [] as Array<number>, effectAsync: [] as Array<number>, ours: [] as Array<number> }
    for (let r = 0; r < options.rounds; r++) {
      figures.raw.push(await cpuMicrosPerCall(calls, () => raw(calls)))
      figures.effectAsync.push(await cpuMicrosPerCall(calls, () => effectAsync(calls)))
      figures.ours.push(await cpuMicrosPerCall(calls, () => ours(calls)))
    }
    return {
      concurrency,
      callsPerRound: calls,
      rawMicros: round(median(figures.raw), 2),
      effectAsyncMicros: round(median(figures.effectAsync), 2),
      oursMicros: round(median(figures.ours), 2)
    }
  } finally {
    await runtime.dispose()
  }
}
