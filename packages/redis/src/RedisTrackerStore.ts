/**
 * The stream tracker's `Store` on Redis: every instance behind one callback URL (a load balancer spreads ZEGOCLOUD's
 * callbacks, their retries and the page reads over them) applies the ordering rule to one shared state, sees every
 * instance's changes, and shares its re-checks.
 *
 * - Writes: the tracker reads an entry with its version, decides by its rule (written once, in the core), and writes
 *   with a compare-and-set; one Lua script checks the version, writes the entry, sets its expiry, keeps the index of
 *   live streams and appends the change to the changes feed, atomically. Two instances applying two events of one
 *   stream at once: one write goes through, the other reads again and decides again, so both end in the rule's answer.
 * - A callback's write is decided on a copy (`getForWrite`): each instance keeps the entries it wrote or decided on,
 *   and those the changes feed brings (each change with its version), at most `copyLimit` streams, so that a callback
 *   waits for one round trip (the write), not two. A copy behind Redis costs a failed compare-and-set, then the
 *   tracker decides again on Redis's entry (as it does a decision to write nothing). The copy is served only while
 *   the feed is read, and emptied when a feed read fails. Reads (`get`) always ask Redis.
 * - A callback's nonce: a write made for a delivery of a Redis nonce store on the same URL (the same string) commits
 *   the nonce in the same script (`StreamTracker.Store.compareAndSet`'s `delivery`), so that a callback with both
 *   stores on one Redis costs one script and one round trip, and its nonce is committed if and only if its event was
 *   written. A delivery of any other nonce store is left to the receiver.
 * - Changes: a capped Redis Stream (`XADD MAXLEN ~ changesLimit`, in the write script, so a change is recorded if
 *   and only if it was written, in the order written), read by each instance with `XREAD BLOCK` on a connection of
 *   its own from the last id it read. Chosen over pub/sub, which forgets what it sends while an instance is
 *   disconnected: here an instance that lost Redis for a moment catches up on what the others wrote meanwhile (as
 *   far as the cap keeps; past it the final state is still what `get` reads). Each change reaches each instance's
 *   `changes` once, in the order written.
 * - Re-checks: a lease per stream (`SET NX PX recheckLease`): of N instances reading one unknown stream, the one that
 *   takes it asks `DescribeRTCStreamState`; the others wait for its answer, and take the lease when it is let go or
 *   lapses (its holder failed or died).
 * - Retention: a closed entry is kept `retention` (1 day) after its last write, an absent one `absentRetention`
 *   (10 minutes: anyone's read of an unknown id may write one), a live one `liveRetention` (7 days) after its last
 *   write (each callback and re-check refreshes it); an entry past its time is forgotten, and the next read of the
 *   stream re-checks it. The changes feed keeps about `changesLimit` changes (10 000).
 * - Memory: one string per stream (its key the prefix and the stream id's SHA-256, so an id cannot make keys long or
 *   odd; its value the version and the compact entry, about 170 bytes plus the id, which is at most 2048
 *   characters), one index member per live stream, and the capped feed; the README gives the bytes measured.
 * - Failures: every call has `commandTimeout` (500 ms). The store then fails with `TrackerUnavailableError`: `apply`
 *   fails (`Endpoints` answers the callback 503 and gives its nonce back; ZEGOCLOUD retries), reads answer the
 *   instance's last known status marked `stale`. A write that timed out may still run when Redis resumes; it was
 *   decided against the version it checks, so it is right if it runs, and the retry changes nothing more. When
 *   Redis answers again, everything goes on without a restart; the feed resumes from its last id.
 *
 * @since 0.1.0
 */
import type { CallbackNonceStore } from "@effect-zego/core"
import { ServerApi, StreamState, StreamTracker, Untrusted, ZegoError } from "@effect-zego/core"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { createHash, randomBytes } from "node:crypto"
import { urlAndPrefix } from "./internal/config.js"
import { connect, failureReason, validateTimeouts, validateUrl } from "./internal/connection.js"
import { APPLIED, linkOf } from "./internal/nonceLink.js"
import { decode, encode } from "./internal/trackerCodec.js"
import * as TrackerCopy from "./internal/trackerCopy.js"
import { subscribe, type Written } from "./internal/trackerFeed.js"

/**
 * Options of the Redis tracker store.
 *
 * @example
 * ```ts
 * import type { RedisTrackerStore } from "@effect-zego/redis"
 *
 * // Closed streams kept a week; reads refused after 200 ms of a silent Redis.
 * const options: RedisTrackerStore.Options = {
 *   url: "redis://127.0.0.1:6379/2",
 *   retention: "7 days",
 *   commandTimeout: "200 millis"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string
  /** Prefix of the keys. Default `effect-zego:tracker:`. */
  readonly keyPrefix?: string | undefined
  /** The longest a Redis call may take before the store fails with `TrackerUnavailableError`. Default 500 ms. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long `make` waits for the first connection. Default 3 s; at most an hour. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** How long a closed stream is kept after its last write. Default 1 day; at most 30 days. */
  readonly retention?: Duration.DurationInput | undefined
  /** How long an absent stream (41004) is kept after its last write. Default 10 minutes; at most 30 days. */
  readonly absentRetention?: Duration.DurationInput | undefined
  /**
   * How long a live stream is kept after its last write (a callback or a re-check refreshes it); past it, the next
   * read re-checks it. Default 7 days; at most 30 days.
   */
  readonly liveRetention?: Duration.DurationInput | undefined
  /** About how many changes the feed keeps for instances catching up after a lost connection. Default 10 000. */
  readonly changesLimit?: number | undefined
  /** The most streams `live` lists (the most recently written first). Default 10 000. */
  readonly liveLimit?: number | undefined
  /**
   * How many streams' entries this instance keeps a copy of, to decide a callback's write without first reading the
   * entry from Redis (the least recently written forgotten first). Default 10 000; 0: none.
   */
  readonly copyLimit?: number | undefined
  /**
   * How long one instance's re-check of a stream holds the others off (they wait for its answer meanwhile). Default
   * 5 s (a describe's time limit); at most an hour.
   */
  readonly recheckLease?: Duration.DurationInput | undefined
}

const MAX_RETENTION = Duration.days(30)

/** A retention: positive, at most 30 days. */
const retentionOf = (parameter: string, input: unknown, fallback: Duration.Duration) => {
  const duration = input === undefined ? Option.some(fallback) : Duration.decodeUnknown(input)
  return Option.isSome(duration) && Duration.greaterThan(duration.value, Duration.zero) &&
      Duration.lessThanOrEqualTo(duration.value, MAX_RETENTION)
    ? Either.right(Math.ceil(Duration.toMillis(duration.value)))
    : Either.left(
      new ZegoError.InvalidRequestError({ parameter, detail: "must be a positive duration of at most 30 days" })
    )
}

const countOf = (parameter: string, input: unknown, fallback: number, least = 1) =>
  input === undefined
    ? Either.right(fallback)
    : typeof input === "number" && Number.isSafeInteger(input) && input >= least && input <= 10_000_000
    ? Either.right(input)
    : Either.left(
      new ZegoError.InvalidRequestError({ parameter, detail: `must be an integer from ${least} to 10000000` })
    )

/**
 * Stream ids whose hashes are kept, each of at most `KEPT_ID_LENGTH` characters: at most about 4 MB, about 100 KB with
 * ids of 20 characters.
 */
const HASHES_KEPT = 1024
const KEPT_ID_LENGTH = 2048

/** This instance's changes kept until the feed brings them back (so that they need not be decoded again). */
const WRITTEN_LIMIT = 1024

/**
 * The entry of KEYS[1], kept as one string `<version> <json>`, as `{version, json}`: `{}` when there is none, `{"?"}`
 * when the key holds something else.
 */
const READ = `
local kind = redis.call("TYPE", KEYS[1]).ok
if kind == "none" then return {} end
if kind ~= "string" then return {"?"} end
local version, json = string.match(redis.call("GET", KEYS[1]), "^(%d+) (.*)$")
if not version then return {"?"} end
return {version, json}
`

/**
 * The compare-and-set. KEYS: the entry, the live index, the changes feed, the version counter, and, for a callback
 * whose nonce the write commits, the nonce's key. ARGV: the expected version ("0": none, "?": unreadable), the entry's
 * JSON, its expiry in ms, "1" when live, the index member, the write's time (ms), "1" to record a change, the feed's
 * cap, the time before which a live index member was last written more than the live retention ago (its entry has
 * expired: dropped when a member is added), and the nonce's expiry in ms. `{version, replay}`: the new version, or 0
 * when the entry's version was not the expected one (nothing written); `replay` 1 when the nonce had already been
 * committed. The keys' types are checked before any write, so that the script writes all or nothing.
 */
const COMPARE_AND_SET = `
local function holds(key, kind)
  local found = redis.call("TYPE", key).ok
  return found == "none" or found == kind
end
if not holds(KEYS[2], "zset") or not holds(KEYS[3], "stream") or not holds(KEYS[4], "string") or
    (KEYS[5] and not holds(KEYS[5], "string")) then
  return redis.error_reply("ERR a tracker key holds another type of value")
end
local kind = redis.call("TYPE", KEYS[1]).ok
local current = "0"
if kind == "string" then
  current = string.match(redis.call("GET", KEYS[1]), "^(%d+) ") or "?"
elseif kind ~= "none" then
  current = "?"
end
if current ~= ARGV[1] then return {0, 0} end
local version = string.format("%d", redis.call("INCR", KEYS[4]))
redis.call("SET", KEYS[1], version .. " " .. ARGV[2], "PX", ARGV[3])
if ARGV[4] == "1" then
  -- The index grows only by a new member: members whose entries have expired are dropped then.
  if redis.call("ZADD", KEYS[2], ARGV[6], ARGV[5]) == 1 then
    redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", "(" .. ARGV[9])
  end
else
  redis.call("ZREM", KEYS[2], ARGV[5])
end
if ARGV[7] == "1" then redis.call("XADD", KEYS[3], "MAXLEN", "~", ARGV[8], "*", "e", ARGV[2], "v", version) end
local replay = 0
if KEYS[5] then
  if redis.call("GET", KEYS[5]) == "${APPLIED}" then replay = 1 end
  redis.call("SET", KEYS[5], "${APPLIED}", "PX", ARGV[10])
end
return {tonumber(version), replay}
`

/** Deletes KEYS[1] only while it holds ARGV[1]: a lease let go never removes another's. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

interface RedisWithScripts extends Redis {
  zegoTrackerRead(key: string): Promise<unknown>
  /** The number of keys (4, or 5 with a nonce), the keys, then the arguments. */
  zegoTrackerWrite(keys: 4 | 5, ...keysThenArgs: ReadonlyArray<string | number>): Promise<unknown>
  zegoTrackerRelease(key: string, token: string): Promise<unknown>
}

/** Why a Redis call failed, short (an ioredis message holds no secret, but may be long). */
const reasonOf = (error: unknown, commandTimeout: Duration.Duration): string =>
  `Redis tracker store failed (${Untrusted.quote(failureReason(error, commandTimeout), 120)})`

/**
 * The store; its Redis connections (one for commands, one per changes feed) close with the scope. Fails with
 * `InvalidRequestError` for an invalid option, before connecting.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import { RedisTrackerStore } from "@effect-zego/redis"
 * import * as Effect from "effect/Effect"
 *
 * // A tracker on the shared store, built by hand (`layer` does the same).
 * const tracker = Effect.gen(function*() {
 *   const store = yield* RedisTrackerStore.make({ url: "redis://127.0.0.1:6379" })
 *   return yield* StreamTracker.make({ store, maxAge: "30 seconds" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<StreamTracker.Store, ZegoError.InvalidRequestError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validateUrl(options.url)
    const { commandTimeout: timeout, connectTimeout } = yield* validateTimeouts(options)
    const closedMillis = yield* retentionOf("retention", options.retention, Duration.days(1))
    const absentMillis = yield* retentionOf("absentRetention", options.absentRetention, Duration.minutes(10))
    const liveMillis = yield* retentionOf("liveRetention", options.liveRetention, Duration.days(7))
    const changesLimit = yield* countOf("changesLimit", options.changesLimit, 10_000)
    const liveLimit = yield* countOf("liveLimit", options.liveLimit, 10_000)
    const copyLimit = yield* countOf("copyLimit", options.copyLimit, 10_000, 0)
    const leaseMillis = Duration.toMillis(
      yield* ServerApi.boundedDuration("recheckLease", options.recheckLease ?? "5 seconds")
    )
    const prefix = options.keyPrefix ?? "effect-zego:tracker:"
    if (typeof prefix !== "string") {
      return yield* new ZegoError.InvalidRequestError({ parameter: "keyPrefix", detail: "must be a string" })
    }
    const redis = (yield* connect(options.url, { commandTimeout: timeout, connectTimeout })) as RedisWithScripts
    redis.defineCommand("zegoTrackerRead", { numberOfKeys: 1, lua: READ })
    // Its number of keys given with each call: 5 when the write commits a callback's nonce.
    redis.defineCommand("zegoTrackerWrite", { lua: COMPARE_AND_SET })
    redis.defineCommand("zegoTrackerRelease", { numberOfKeys: 1, lua: RELEASE })

    const keys = {
      index: `${prefix}live`,
      feed: `${prefix}changes`,
      counter: `${prefix}version`
    }
    /**
     * A stream id's hash: the entry's key is the prefix, `s:` and it; the lease's, `lease:` and it. The last
     * `HASHES_KEPT` are kept: a stream's callbacks come in turn, and a hash costs more than its look-up.
     */
    const hashes = new Map<string, string>()
    const hashOf = (streamId: string) => {
      let hash = hashes.get(streamId)
      if (hash === undefined) {
        hash = createHash("sha256").update(streamId, "utf8").digest("base64url")
        if (streamId.length > KEPT_ID_LENGTH) return hash
        hashes.set(streamId, hash)
        if (hashes.size > HASHES_KEPT) hashes.delete(hashes.keys().next().value!)
      }
      return hash
    }
    const entryKey = (hash: string) => `${prefix}s:${hash}`

    /** Runs one command; ioredis fails it when no answer came within `commandTimeout` (see `connect`). */
    const command = <A>(run: () => Promise<A>): Effect.Effect<A, StreamTracker.TrackerUnavailableError> =>
      Effect.async((resume) => {
        const unavailable = (error: unknown) =>
          resume(Effect.fail(new StreamTracker.TrackerUnavailableError({ reason: reasonOf(error, timeout) })))
        try {
          run().then((value) => resume(Effect.succeed(value)), unavailable)
        } catch (error) {
          unavailable(error)
        }
      })

    const copy = TrackerCopy.make(copyLimit)
    const written = new Map<number, Written>()

    const get: StreamTracker.Store["get"] = (streamId) =>
      Effect.map(command(() => redis.zegoTrackerRead(entryKey(hashOf(streamId)))), (reply) => {
        if (!Array.isArray(reply) || reply.length === 0) return { entry: undefined, version: "0" }
        const version = typeof reply[0] === "string" ? reply[0] : "?"
        const entry = decode(reply[1])
        // Another stream's entry under this hash cannot happen, short of a corrupt value: treated as one.
        return { entry: entry?.status.streamId === streamId ? entry : undefined, version }
      })

    // The copy when it holds the stream (a stale one costs the tracker a failed compare-and-set), else Redis's entry,
    // then copied. Reads (`get`) are not copied: many streams read once would push out the ones written.
    const getForWrite: StreamTracker.Store["get"] = (streamId) => {
      const kept = copy.get(streamId)
      if (kept !== undefined) return Effect.succeed({ entry: kept.entry, version: String(kept.version) })
      return Effect.tap(get(streamId), ({ entry, version }) => {
        if (entry !== undefined && /^[1-9][0-9]{0,15}$/.test(version)) copy.put(streamId, Number(version), entry)
      })
    }

    /**
     * The delivery's nonce, its key and the time to keep it (ms), when this write can commit it: a delivery of a Redis
     * nonce store on the same URL, not yet past its window (one past it need not be kept).
     */
    const nonceOf = (delivery: CallbackNonceStore.Delivery | undefined, now: number) => {
      if (delivery === undefined) return undefined
      const nonceLink = linkOf(delivery.store)
      if (nonceLink === undefined || nonceLink.url !== options.url) return undefined
      const millis = Math.ceil(delivery.expiresAt - now)
      return millis > 0 ? { delivery, key: nonceLink.keyOf(delivery.nonce), millis } : undefined
    }

    const compareAndSet: StreamTracker.Store["compareAndSet"] = (streamId, version, next, change, delivery) => {
      const json = encode(next)
      if (json === undefined) {
        return Effect.fail(
          new StreamTracker.TrackerUnavailableError({ reason: "a stream id past 2048 characters is not kept" })
        )
      }
      const state = next.status.state
      const hash = hashOf(streamId)
      const expiry = state === "live" ? liveMillis : state === "closed" ? closedMillis : absentMillis
      const now = next.status.checkedAt.getTime()
      const nonce = nonceOf(delivery, now)
      const args = [
        version,
        json,
        expiry,
        state === "live" ? "1" : "0",
        hash,
        now,
        change ? "1" : "0",
        changesLimit,
        now - liveMillis
      ]
      const entryKeys = [entryKey(hash), keys.index, keys.feed, keys.counter]
      return Effect.matchEffect(
        command(() =>
          nonce === undefined
            ? redis.zegoTrackerWrite(4, ...entryKeys, ...args)
            : redis.zegoTrackerWrite(5, ...entryKeys, nonce.key, ...args, nonce.millis)
        ),
        {
          onFailure: (error) => {
            // It may still run: the copy cannot tell the stream's version any more.
            copy.drop(streamId)
            return Effect.fail(error)
          },
          onSuccess: (reply) => {
            const [version, replay] = Array.isArray(reply) ? reply : []
            if (typeof version !== "number" || version <= 0) {
              copy.drop(streamId)
              return Effect.succeed(false)
            }
            copy.put(streamId, version, next)
            if (change) {
              written.set(version, { json, entry: next })
              if (written.size > WRITTEN_LIMIT) written.delete(written.keys().next().value!)
            }
            if (nonce !== undefined) nonce.delivery.settled ??= replay === 1 ? "replay" : "first"
            return Effect.succeed(true)
          }
        }
      )
    }

    const live: StreamTracker.Store["live"] = Effect.gen(function*() {
      const members = yield* command(() => redis.zrevrange(keys.index, 0, liveLimit - 1))
      if (members.length === 0) return []
      const replies = yield* command(() => redis.pipeline(members.map((member) => ["get", entryKey(member)])).exec())
      return (replies ?? []).flatMap(([error, value]) => {
        const entry = error === null && typeof value === "string"
          ? decode(value.slice(value.indexOf(" ") + 1))
          : undefined
        return entry?.status.state === "live" ? [entry] : []
      })
    })

    const recheckLease: StreamTracker.RecheckLease = {
      millis: leaseMillis,
      claim: (streamId) =>
        Effect.gen(function*() {
          const key = `${prefix}lease:${hashOf(streamId)}`
          const token = randomBytes(12).toString("base64url")
          const answer = yield* command(() => redis.set(key, token, "PX", leaseMillis, "NX"))
          if (answer !== "OK") return false
          // Let go with the scope (a failed describe, an interrupted read); a lease not let go lapses.
          yield* Effect.addFinalizer(() => Effect.ignore(command(() => redis.zegoTrackerRelease(key, token))))
          return true
        })
    }

    return {
      get,
      getForWrite,
      compareAndSet,
      live,
      recheckLease,
      changes: subscribe({
        url: options.url,
        key: keys.feed,
        commandTimeout: timeout,
        connectTimeout,
        copy,
        written
      })
    }
  })

/**
 * The tracker's options other than its store.
 *
 * @example
 * ```ts
 * import type { RedisTrackerStore } from "@effect-zego/redis"
 *
 * const tracker: RedisTrackerStore.TrackerOptions = { maxAge: "10 seconds", capacity: 1000 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TrackerOptions = Omit<StreamTracker.Options, "store">

/**
 * The tracker over a `StreamState` service, its entries on Redis: every instance that runs it with the same Redis and
 * key prefix shares the streams' state, changes and re-checks. `trackerOptions.capacity` bounds the last known
 * statuses this instance keeps for reads while Redis cannot be reached.
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import { RedisTrackerStore } from "@effect-zego/redis"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * const TrackerLive = RedisTrackerStore.layer({ url: "redis://127.0.0.1:6379" }, { maxAge: "30 seconds" }).pipe(
 *   Layer.provide(StreamState.layerConfig()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options,
  trackerOptions?: TrackerOptions
): Layer.Layer<StreamTracker.StreamTracker, ZegoError.InvalidRequestError, StreamState.StreamState> =>
  Layer.scoped(
    StreamTracker.StreamTracker,
    Effect.flatMap(make(options), (store) => StreamTracker.make({ ...trackerOptions, store }))
  )

/**
 * The options read from `ZEGO_TRACKER_REDIS_URL` and `ZEGO_TRACKER_REDIS_PREFIX`.
 *
 * @example
 * ```ts
 * import { RedisTrackerStore } from "@effect-zego/redis"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const options = RedisTrackerStore.configFromEnv.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ZEGO_TRACKER_REDIS_URL", "redis://127.0.0.1:6379"]])))
 * )
 * Effect.runPromise(options).then((o) => assert.strictEqual(o.url, "redis://127.0.0.1:6379"))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const configFromEnv: Config.Config<Options> = urlAndPrefix(
  "ZEGO_TRACKER_REDIS_URL",
  "ZEGO_TRACKER_REDIS_PREFIX"
)

/**
 * {@link layer} with the store's options read through Effect `Config` (by default {@link configFromEnv}).
 *
 * @example
 * ```ts
 * import { StreamState } from "@effect-zego/core"
 * import { RedisTrackerStore } from "@effect-zego/redis"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_TRACKER_REDIS_URL, and optionally ZEGO_TRACKER_REDIS_PREFIX; ZEGO_APP_ID and the rest for StreamState.
 * const TrackerLive = RedisTrackerStore.layerConfig().pipe(
 *   Layer.provide(StreamState.layerConfig()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options> = configFromEnv,
  trackerOptions?: TrackerOptions
): Layer.Layer<
  StreamTracker.StreamTracker,
  ConfigError.ConfigError | ZegoError.InvalidRequestError,
  StreamState.StreamState
> =>
  Layer.scoped(
    StreamTracker.StreamTracker,
    Effect.flatMap(config, (options) =>
      Effect.flatMap(make(options), (store) => StreamTracker.make({ ...trackerOptions, store })))
  )
