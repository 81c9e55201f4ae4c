/**
 * The tracker's changes feed on Redis: each instance reads the capped Redis Stream the write script appends to, with
 * `XREAD BLOCK` on a connection of its own, from the last id it read. After a lost connection it resumes from that id
 * (catching up on what the others wrote meanwhile, as far as the cap keeps); when Redis lost the stream (a restart
 * without persistence), it starts again from the stream's beginning.
 *
 * Changes that come faster than one per `PACE_MILLIS` are read in batches. Each change read also goes to the store's
 * copy of entries, with its version.
 *
 * It starts at the stream's last id. When Redis does not answer then (down when the instance starts), it starts at
 * the id of this instance's clock at that moment (a Redis Stream id is the Redis server's time in ms), so that it
 * still gets what the others write from then on, clocks allowing: a few seconds off, as the callbacks' own time
 * window assumes, costs at most those seconds' changes (or repeats them).
 */
import type { StreamTracker } from "@effect-zego/core"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { connect } from "./connection.js"
import { decode } from "./trackerCodec.js"
import type * as TrackerCopy from "./trackerCopy.js"

/** How long one `XREAD` waits for news before it asks again. */
const BLOCK_MILLIS = 2000
/** Changes read per `XREAD`. */
const BATCH = 256
/** The pause after a failed read before the next one. */
const RETRY = Duration.millis(250)
/**
 * The least time between two reads: changes that come faster are read in batches (at most 100 reads a second), which
 * saves this instance and Redis a command per change under load, for at most this much delay.
 */
const PACE_MILLIS = 10

const monotonicMillis = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos / 1_000_000n))

/** `a < b` for stream ids (`ms-seq`). */
const before = (a: string, b: string): boolean => {
  const [aMs = "0", aSeq = "0"] = a.split("-")
  const [bMs = "0", bSeq = "0"] = b.split("-")
  const [am, as, bm, bs] = [BigInt(aMs), BigInt(aSeq), BigInt(bMs), BigInt(bSeq)]
  return am < bm || (am === bm && as < bs)
}

const isId = (value: unknown): value is string => typeof value === "string" && /^[0-9]{1,20}-[0-9]{1,20}$/.test(value)

/** The `[id, fields]` pairs of an `XREAD` or `XRANGE` reply, whatever shape it has (anything else is skipped). */
const items = (reply: unknown): ReadonlyArray<readonly [string, unknown]> =>
  Array.isArray(reply)
    ? reply.flatMap((item) => Array.isArray(item) && isId(item[0]) ? [[item[0], item[1]] as const] : [])
    : []

/** A change this instance wrote, as written (its JSON) and as an entry. */
export interface Written {
  readonly json: string
  readonly entry: StreamTracker.Entry
}

/** The version an item's fields give (`v`), if they give one (a change recorded before versions were has none). */
const versionOf = (fields: unknown): number | undefined => {
  const version = Array.isArray(fields) && fields[2] === "v" ? Number(fields[3]) : NaN
  return Number.isSafeInteger(version) && version > 0 ? version : undefined
}

/**
 * The entry an item's fields hold (`e`: the entry written), if they hold one: this instance's own write when it is
 * one of `written` (saving the decoding), else decoded.
 */
const entryOf = (
  fields: unknown,
  version: number | undefined,
  written: Map<number, Written>
): StreamTracker.Entry | undefined => {
  if (!Array.isArray(fields) || fields[0] !== "e") return undefined
  const own = version === undefined ? undefined : written.get(version)
  if (own !== undefined) {
    written.delete(version!)
    if (own.json === fields[1]) return own.entry
  }
  return decode(fields[1])
}

/**
 * Subscribes to the feed at `key`: positioned when this returns (at the stream's last id, or this clock's when Redis
 * does not answer in time), read until the scope closes. What it reads also goes to `copy` (served while the feed is
 * read, emptied when a read fails); `written` holds this instance's own recent changes by version.
 */
export const subscribe = (options: {
  readonly url: string
  readonly key: string
  readonly commandTimeout: Duration.Duration
  readonly connectTimeout: Duration.Duration
  readonly copy: TrackerCopy.Copy
  readonly written: Map<number, Written>
}): Effect.Effect<Stream.Stream<StreamTracker.Change>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { commandTimeout, copy, key, written } = options
    // Its own connection: a blocked XREAD holds it. Its time limit covers the block.
    const redis = yield* connect(options.url, {
      commandTimeout: Duration.sum(commandTimeout, Duration.millis(BLOCK_MILLIS)),
      connectTimeout: options.connectTimeout
    })
    // ioredis's timer bounds each command (see `connect`): no timer of its own.
    const command = <A>(run: () => Promise<A>) => Effect.tryPromise(run)

    /** The stream's last id, or `0-0` when it has none. */
    const lastId = Effect.map(
      command(() => redis.xrevrange(key, "+", "-", "COUNT", 1)),
      (reply) => items(reply)[0]?.[0] ?? "0-0"
    )

    const subscribedAt = yield* Clock.currentTimeMillis
    const positioned = yield* Effect.option(Effect.timeout(lastId, commandTimeout))
    let cursor = Option.getOrElse(positioned, () => `${subscribedAt}-0`)
    // Whether the cursor is an id the stream holds (or held): only then can a lost stream be told by being behind it.
    let fromStream = Option.isSome(positioned)
    // Set after a failed read: the next one first checks that Redis still has the stream it was reading.
    let interrupted = false
    // A connection lost between two reads fails none of them (ioredis reconnects before the next), yet Redis may
    // have restarted meanwhile: the copy is emptied and the next read checks the stream, as after a failed read.
    redis.on("close", () => {
      interrupted = true
      copy.lose()
      written.clear()
    })

    /** After an outage: a stream whose last id is behind the cursor (or gone) was lost; read it from the start. */
    const resume = (from: string) =>
      command(() => redis.xinfo("STREAM", key)).pipe(
        Effect.map((info) => {
          const fields = Array.isArray(info) ? info : []
          const last = fields[fields.indexOf("last-generated-id") + 1]
          return isId(last) && !before(last, from) ? from : "0-0"
        }),
        Effect.catchIf((error) => String(error).includes("no such key"), () => Effect.succeed("0-0"))
      )

    // When the last read was sent (monotonic ms): the next waits until PACE_MILLIS after it.
    let readAt = -Infinity
    const pull = Effect.gen(function*() {
      if (interrupted && fromStream) cursor = yield* resume(cursor)
      interrupted = false
      const wait = readAt + PACE_MILLIS - (yield* monotonicMillis)
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
      readAt = yield* monotonicMillis
      const from = cursor
      const reply = yield* command(() => redis.xread("COUNT", BATCH, "BLOCK", BLOCK_MILLIS, "STREAMS", key, from))
      const read = Array.isArray(reply) && Array.isArray(reply[0]) ? items(reply[0][1]) : []
      if (read.length > 0) {
        cursor = read[read.length - 1]![0]
        fromStream = true
      }
      copy.follow()
      return Chunk.fromIterable(read.flatMap(([, fields]) => {
        const version = versionOf(fields)
        const entry = entryOf(fields, version, written)
        if (entry === undefined) return []
        if (version !== undefined) copy.put(entry.status.streamId, version, entry)
        return [entry.status]
      }))
    }).pipe(
      Effect.catchAll(() =>
        Effect.sync(() => {
          interrupted = true
          copy.lose()
          written.clear()
        }).pipe(Effect.zipRight(Effect.sleep(RETRY)), Effect.as(Chunk.empty<StreamTracker.Change>()))
      )
    )

    return Stream.repeatEffectChunk(pull)
  })
