// Several trackers on one real redis-server, each with its own store and connections, as separate processes would
// have: one state, one order of changes, one re-check; keys, expiry, memory and options.
import { CallbackNonceStore, CallbackReceiver, StreamState, StreamTracker } from "@effect-zego/core"
import { RedisNonceStore, RedisTrackerStore } from "@effect-zego/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import { Redis } from "ioredis"
import { createHash } from "node:crypto"
import { startRedis } from "./redisServer.js"
import {
  closed,
  countingState,
  created,
  Delivered,
  oracle,
  seconds,
  settled,
  signedCallback,
  T0,
  trackerOn
} from "./trackerFixtures.js"

const noDescribe = countingState(() => Effect.die("no describe expected"), Ref.unsafeMake(0))

/** A plain client of the test's own, to look at (or spoil) what the store keeps. */
const clientOf = (url: string) =>
  Effect.acquireRelease(Effect.sync(() => new Redis(url)), (client) => Effect.sync(() => client.disconnect()))

const hashOf = (streamId: string) => createHash("sha256").update(streamId, "utf8").digest("base64url")
const PREFIX = "effect-zego:tracker:"

/** Waits (polling, at most `seconds`) until `done` holds; fails the test with `what` otherwise. */
const eventually = (what: string, done: Effect.Effect<boolean>, seconds = 20) =>
  Effect.gen(function*() {
    const deadline = Date.now() + seconds * 1000
    while (!(yield* done)) {
      if (Date.now() > deadline) return assert.fail(`not within ${seconds} s: ${what}`)
      yield* Effect.sleep("20 millis")
    }
  })

/** Collects every change an instance's `changes` publishes, from now on. */
const recordChanges = (tracker: StreamTracker.Service) =>
  Effect.gen(function*() {
    const log: Array<StreamTracker.Change> = []
    const changes = yield* tracker.subscribe
    yield* Effect.forkScoped(Stream.runForEach(changes, (change) => Effect.sync(() => log.push(change))))
    return log
  })

describe("RedisTrackerStore: one state for every instance", () => {
  it.live("a callback applied on one instance is read, listed and published on every instance", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const [one, two] = yield* Effect.all([
        trackerOn({ url: redis.url }, noDescribe),
        trackerOn({ url: redis.url }, noDescribe)
      ])
      const seen = yield* Effect.forEach(
        [one, two],
        (tracker) =>
          Effect.flatMap(tracker.subscribe, (changes) => Effect.fork(Stream.runCollect(Stream.take(changes, 2))))
      )
      yield* one.apply(created("s1", 1, T0))
      assert.strictEqual((yield* two.peek("s1"))?.state, "live")
      assert.deepStrictEqual((yield* two.live).map((status) => status.streamId), ["s1"])
      yield* two.apply(closed("s1", 2, T0 + 5000, { reason: "heartbeatTimeout", createdAt: T0 }))
      const status = yield* one.peek("s1")
      assert.strictEqual(status?.state === "closed" && status.reason, "heartbeatTimeout")
      assert.deepStrictEqual(yield* one.live, [])
      for (const fiber of seen) {
        const changes: ReadonlyArray<StreamTracker.Change> = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        assert.deepStrictEqual(changes.map((change) => change.state), ["live", "closed"])
      }
    }).pipe(Effect.scoped))

  it.live(
    "random histories (order, duplicates, losses) split across three instances applying at once, each deciding on its copy: every instance ends in the rule's answer and sees the same changes, once, in order",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const client = yield* clientOf(redis.url)
        // Each decides its writes on a copy, often behind the others' writes; the third's copy keeps one stream only,
        // so that its writes are decided on the copy or on Redis by turns.
        const trackers = yield* Effect.forEach(
          [undefined, undefined, 1],
          (copyLimit) => trackerOn({ url: redis.url, copyLimit }, noDescribe)
        )
        const logs = yield* Effect.forEach(trackers, recordChanges)
        const runtime = yield* Effect.runtime<never>()
        let run = 0
        const property = FastCheck.asyncProperty(Delivered("s", 0, 3), ({ delivery, to }) => {
          const streamId = `prop-${run++}`
          const events = delivery.map((event) => ({ ...event, streamId }))
          return Runtime.runPromise(runtime)(Effect.gen(function*() {
            // The rule's answer: one tracker of its own, in memory, applying the same events one after another.
            const reference = yield* Effect.scoped(Effect.flatMap(
              StreamTracker.make(),
              (tracker) => Effect.zipRight(Effect.forEach(events, tracker.apply), tracker.peek(streamId))
            )).pipe(Effect.provideService(StreamState.StreamState, noDescribe))
            yield* Effect.forEach(
              trackers,
              (tracker, i) =>
                Effect.forEach(events.filter((_, k) => to[k] === i), tracker.apply, {
                  concurrency: 2,
                  discard: true
                }),
              { concurrency: "unbounded", discard: true }
            )
            for (const tracker of trackers) {
              assert.deepStrictEqual(settled(yield* tracker.peek(streamId)), settled(reference))
            }
            // The changes recorded in Redis, in the order written: each instance publishes exactly these.
            const feed = (yield* Effect.promise(() => client.xrange(`${PREFIX}changes`, "-", "+")))
              .map(([, fields]) => JSON.parse(fields[1]!) as { readonly s: string; readonly i: string })
              .filter((change) => change.i === streamId)
              .map((change) => change.s)
            const of = (log: ReadonlyArray<StreamTracker.Change>) =>
              log.filter((change) => change.streamId === streamId).map((change) => change.state)
            yield* eventually(
              "every instance has published the feed",
              Effect.sync(() => logs.every((log) => of(log).length >= feed.length))
            )
            for (const log of logs) assert.deepStrictEqual(of(log), feed)
            feed.forEach((state, i) => assert.notStrictEqual(state, feed[i - 1], "a change changes the state"))
            assert.strictEqual(feed.at(-1), reference?.state)
          }))
        })
        yield* Effect.promise(() => FastCheck.assert(property, { numRuns: 150 }))
      }).pipe(Effect.scoped),
    { timeout: 240_000 }
  )

  it.live("five instances reading one unknown stream at once make one DescribeRTCStreamState call", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const calls = yield* Ref.make(0)
      const history = [created("shared", 1, T0)]
      const state = countingState(() => Effect.delay(oracle(history), "300 millis"), calls)
      const trackers = yield* Effect.forEach([1, 2, 3, 4, 5], () => trackerOn({ url: redis.url }, state))
      const statuses = yield* Effect.forEach(trackers, (tracker) => tracker.get("shared"), { concurrency: "unbounded" })
      assert.isTrue(statuses.every((status) => status?.state === "live" && status.source === "describe"))
      assert.strictEqual(yield* Ref.get(calls), 1)
    }).pipe(Effect.scoped))

  it.live("a re-check lease whose holder died lapses: a reader waits for it, then asks itself", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const lease = `${PREFIX}lease:${hashOf("orphan")}`
      // Each describe notes whether the dead instance's lease was still there when it was sent.
      const sentUnderDeadLease = yield* Ref.make<ReadonlyArray<boolean>>([])
      const state = countingState(
        () =>
          Effect.promise(() => client.get(lease)).pipe(
            Effect.flatMap((holder) => Ref.update(sentUnderDeadLease, (sent) => [...sent, holder === "dead"])),
            Effect.zipRight(oracle([created("orphan", 1, T0)]))
          ),
        Ref.unsafeMake(0)
      )
      const tracker = yield* trackerOn({ url: redis.url, recheckLease: "1 second" }, state)
      // An instance that took the lease and died.
      yield* Effect.promise(() => client.set(lease, "dead", "PX", 500))
      const status = yield* tracker.get("orphan")
      assert.strictEqual(status?.state, "live")
      assert.deepStrictEqual(yield* Ref.get(sentUnderDeadLease), [false])
    }).pipe(Effect.scoped))

  it.live("a failed re-check lets the lease go: the next reader asks at once", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const calls = yield* Ref.make(0)
      const state = countingState(() => Effect.die("ZEGOCLOUD unreachable"), calls)
      const tracker = yield* trackerOn({ url: redis.url }, state)
      assert.isUndefined(yield* tracker.get("unreachable"))
      assert.strictEqual(yield* Effect.promise(() => client.exists(`${PREFIX}lease:${hashOf("unreachable")}`)), 0)
      assert.isUndefined(yield* tracker.get("unreachable"))
      assert.strictEqual(yield* Ref.get(calls), 2)
    }).pipe(Effect.scoped))
})

/** A store and a tracker on it (which reads the store's changes feed, and so keeps its copy served). */
const storeAndTracker = (options: RedisTrackerStore.Options) =>
  Effect.gen(function*() {
    const store = yield* Effect.orDie(RedisTrackerStore.make(options))
    const tracker = yield* Effect.provideService(
      Effect.orDie(StreamTracker.make({ store })),
      StreamState.StreamState,
      noDescribe
    )
    return { store, tracker }
  })

/** An entry as the store writes it (`<version> <json>`), written by hand under the stream's key, behind the feed. */
const writeBehind = (client: Redis, streamId: string, version: number, json: object) =>
  Effect.promise(() => client.set(`${PREFIX}s:${hashOf(streamId)}`, `${version} ${JSON.stringify(json)}`))

const closedSeq4 = (streamId: string) => ({
  s: "closed",
  i: streamId,
  c: Date.now(),
  o: "callback",
  t: T0 + 4000,
  r: "kickedOut",
  k: ["close", String(858012925204410400n), "4", T0 + 4000, null, true]
})

describe("RedisTrackerStore: the copy a write is decided on", () => {
  it.live("a write decided on a stale copy fails its compare-and-set and is decided again on Redis's entry", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { store, tracker } = yield* storeAndTracker({ url: redis.url })
      yield* tracker.apply(created("behind", 1, T0))
      const copied = yield* store.getForWrite!("behind")
      // Redis moves on behind the copy's back: closed at seq 4, which a close at seq 3 does not supersede.
      yield* writeBehind(client, "behind", 999, closedSeq4("behind"))
      assert.strictEqual((yield* store.getForWrite!("behind")).version, copied.version, "the copy is behind")
      yield* tracker.apply(closed("behind", 3, T0 + 3000, { reason: "normal", createdAt: T0 }))
      const status = yield* tracker.peek("behind")
      assert.strictEqual(status?.state === "closed" && status.reason, "kickedOut", "seq 4 stays")
      // The failed write dropped the stale copy: what Redis holds is what the next write is decided on.
      assert.strictEqual((yield* store.getForWrite!("behind")).version, "999")
    }).pipe(Effect.scoped))

  it.live("a decision on the copy to write nothing is made again on Redis's entry", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { store, tracker } = yield* storeAndTracker({ url: redis.url })
      yield* tracker.apply(created("again", 3, T0))
      // Behind the copy, Redis says absent (as a re-check's 41004 would): the same create must bring the stream back,
      // though on the copy it is a duplicate.
      yield* writeBehind(client, "again", 999, { s: "absent", i: "again", c: Date.now() })
      assert.strictEqual((yield* store.getForWrite!("again")).entry?.status.state, "live", "the copy is behind")
      yield* tracker.apply(created("again", 3, T0))
      assert.strictEqual((yield* tracker.peek("again"))?.state, "live")
    }).pipe(Effect.scoped))

  it.live("a broken feed empties the copy and it is not served, Redis is read instead; back, the copy is served again", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { store, tracker } = yield* storeAndTracker({ url: redis.url })
      const other = yield* trackerOn({ url: redis.url }, noDescribe)
      const log = yield* recordChanges(tracker)
      yield* tracker.apply(created("feed", 1, T0))
      const copied = (yield* store.getForWrite!("feed")).version
      yield* writeBehind(client, "feed", 999, closedSeq4("feed"))
      assert.strictEqual((yield* store.getForWrite!("feed")).version, copied)
      // A feed's connection is one blocked in XREAD: killed (both instances'), its read fails.
      const feeds = (yield* Effect.promise(() => client.client("LIST") as Promise<string>))
        .split("\n")
        .filter((line) => line.includes("cmd=xread"))
        .map((line) => /(?:^| )id=(\d+)/.exec(line)![1]!)
      assert.strictEqual(feeds.length, 2, "one feed per instance")
      yield* Effect.forEach(feeds, (id) => Effect.promise(() => client.client("KILL", "ID", id)))
      yield* eventually(
        "the copy is no longer served",
        Effect.orDie(Effect.map(store.getForWrite!("feed"), (kept) => kept.version === "999"))
      )
      // Back (each feed reconnects on its own): a change written by the other instance reaches this one's feed, and
      // from then on the copy is served again (what it last read, though Redis moves on behind it).
      yield* eventually(
        "the feed reads again",
        Effect.zipRight(
          Effect.orDie(other.apply(created(`probe-${log.length}`, 1, T0))),
          Effect.sync(() => log.some((change) => change.streamId.startsWith("probe-")))
        )
      )
      // Read once more now that the copy is served (the entry read while the feed was down may have been emptied
      // with it, when the lost connection and the failed read came one after the other), then kept.
      assert.strictEqual((yield* store.getForWrite!("feed")).version, "999")
      yield* writeBehind(client, "feed", 1000, closedSeq4("feed"))
      assert.strictEqual((yield* store.getForWrite!("feed")).version, "999")
      // And writes go on, right: the stale copy costs a failed compare-and-set, then Redis's entry decides.
      yield* tracker.apply(created("feed", 5, T0 + 5000))
      assert.strictEqual((yield* tracker.peek("feed"))?.state, "live")
      assert.strictEqual(
        (yield* store.get("feed")).version,
        yield* Effect.promise(() => client.get(`${PREFIX}version`))
      )
    }).pipe(Effect.scoped))

  it.live("copyLimit bounds the copy: the least recently written stream is read from Redis again", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { store, tracker } = yield* storeAndTracker({ url: redis.url, copyLimit: 2 })
      for (const streamId of ["a", "b", "c"]) yield* tracker.apply(created(streamId, 1, T0))
      for (const streamId of ["a", "b", "c"]) yield* writeBehind(client, streamId, 999, closedSeq4(streamId))
      // The last two written are copied (so behind Redis now); the first is forgotten, so read from Redis.
      assert.notStrictEqual((yield* store.getForWrite!("c")).version, "999")
      assert.notStrictEqual((yield* store.getForWrite!("b")).version, "999")
      assert.strictEqual((yield* store.getForWrite!("a")).version, "999")
    }).pipe(Effect.scoped))
})

describe("RedisTrackerStore: a callback's nonce committed with the write", () => {
  const NONCES = "effect-zego:callback-nonce:"
  const nonceKey = (nonce: string) => NONCES + createHash("sha256").update(nonce, "utf8").digest("hex")
  const inAMinute = () => Date.now() + 60_000
  /** A callback's delivery, its nonce kept a minute once committed. */
  const delivery = (nonce: string, store: CallbackNonceStore.NonceStore): CallbackNonceStore.Delivery => ({
    nonce,
    expiresAt: inAMinute(),
    store,
    settled: undefined
  })

  it.live("with a Redis nonce store on the same URL: one script writes the entry and commits the nonce; again, a replay", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { tracker } = yield* storeAndTracker({ url: redis.url })
      const nonces = yield* Effect.orDie(RedisNonceStore.make({ url: redis.url }))
      // Scripts run (ioredis sends a script's first call on a connection as EVAL, the others as EVALSHA).
      const scripts = Effect.promise(async () => {
        const stats = await client.info("commandstats")
        const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
        return calls("eval") + calls("evalsha")
      })
      // The stream's entry is in the instance's copy once written: the next write is decided without a read.
      yield* tracker.apply(created("fused", 1, T0))
      const before = yield* scripts
      const first = delivery("n-1", nonces)
      yield* tracker.applyDelivery(closed("fused", 2, T0 + 1000), first)
      // One script for the write and the commit, nothing else run (the `info` is not a script).
      assert.strictEqual((yield* scripts) - before, 1)
      assert.strictEqual(first.settled, "first")
      assert.strictEqual((yield* tracker.peek("fused"))?.state, "closed")
      assert.strictEqual(yield* Effect.promise(() => client.get(nonceKey("n-1"))), "a")
      assert.strictEqual((yield* nonces.claim("n-1", inAMinute()))._tag, "Applied")
      // The nonce expires with the delivery's window.
      const ttl = yield* Effect.promise(() => client.pttl(nonceKey("n-1")))
      assert.isTrue(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`)
      // A later write with the same nonce (a replay whose entry had been forgotten) is applied and says so.
      yield* Effect.promise(() => client.del(`${PREFIX}s:${hashOf("fused")}`))
      const again = delivery("n-1", nonces)
      yield* tracker.applyDelivery(closed("fused", 2, T0 + 1000), again)
      assert.strictEqual(again.settled, "replay")
      assert.strictEqual((yield* tracker.peek("fused"))?.state, "closed")
    }).pipe(Effect.scoped))

  it.live("a delivery of another store, or of a Redis nonce store on another URL, is left to the receiver", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { tracker } = yield* storeAndTracker({ url: redis.url })
      const inMemory = yield* Effect.orDie(CallbackNonceStore.memoryNonceStore())
      // The same server under another spelling: not known to be the same Redis, so not written together.
      const elsewhere = yield* Effect.orDie(RedisNonceStore.make({ url: redis.url.replace("127.0.0.1", "localhost") }))
      for (const [i, store] of [inMemory, elsewhere].entries()) {
        const other = delivery(`other-${i}`, store)
        yield* tracker.applyDelivery(created(`other-${i}`, 1, T0), other)
        assert.isUndefined(other.settled)
        assert.strictEqual((yield* tracker.peek(`other-${i}`))?.state, "live")
        assert.isNull(yield* Effect.promise(() => client.get(nonceKey(`other-${i}`))))
      }
    }).pipe(Effect.scoped))

  it.live("a write that loses its compare-and-set, or finds the nonce's key of another type, commits nothing", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { store } = yield* storeAndTracker({ url: redis.url })
      const nonces = yield* Effect.orDie(RedisNonceStore.make({ url: redis.url }))
      const entry = (streamId: string): StreamTracker.Entry => ({
        status: { state: "absent", streamId, source: "describe", checkedAt: new Date() },
        key: undefined
      })
      const lost = delivery("lost", nonces)
      assert.isFalse(yield* store.compareAndSet("cas", "41", entry("cas"), true, lost))
      assert.isUndefined(lost.settled)
      assert.isNull(yield* Effect.promise(() => client.get(nonceKey("lost"))))
      yield* Effect.promise(() => client.rpush(nonceKey("odd"), "x"))
      const odd = delivery("odd", nonces)
      const error = yield* Effect.flip(store.compareAndSet("cas", "0", entry("cas"), true, odd))
      assert.strictEqual(error._tag, "TrackerUnavailableError")
      assert.isUndefined(odd.settled)
      assert.strictEqual((yield* store.get("cas")).version, "0", "nothing written")
    }).pipe(Effect.scoped))

  it.live("through a receiver: a callback is applied and its nonce committed; its replay is answered as one", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const { tracker } = yield* storeAndTracker({ url: redis.url })
      const nonces = yield* Effect.orDie(RedisNonceStore.make({ url: redis.url }))
      const secret = Redacted.make("secret")
      const receiver = yield* Effect.orDie(CallbackReceiver.makeReceiver({ secret, nonces }))
      const body = signedCallback(secret, "received")("stream_create", 1, "via-receiver")
      yield* receiver.receiveAndApply({ body }, tracker.applyDelivery)
      assert.strictEqual((yield* tracker.peek("received"))?.state, "live")
      const replay = yield* Effect.flip(receiver.receiveAndApply({ body }, tracker.applyDelivery))
      assert.strictEqual(replay._tag, "CallbackReplayError")
    }).pipe(Effect.scoped))
})

describe("RedisTrackerStore: keys, expiry, memory", () => {
  it.live("one string per stream under the prefix and the id's hash; closed, absent and live entries expire as configured", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const tracker = yield* trackerOn(
        {
          url: redis.url,
          keyPrefix: "app:",
          retention: "1 hour",
          absentRetention: "2 minutes",
          liveRetention: "3 days"
        },
        noDescribe
      )
      yield* tracker.apply(created("live-one", 1, T0))
      yield* tracker.apply(closed("closed-one", 2, T0))
      yield* tracker.observe("absent-one", undefined)
      const ttl = (streamId: string) => Effect.promise(() => client.pttl(`app:s:${hashOf(streamId)}`))
      for (
        const [streamId, millis] of [["live-one", 3 * 86_400_000], ["closed-one", 3_600_000], [
          "absent-one",
          120_000
        ]] as const
      ) {
        const left = yield* ttl(streamId)
        assert.isAbove(left, millis - 60_000, streamId)
        assert.isAtMost(left, millis, streamId)
      }
      const keys = (yield* Effect.promise(() => client.keys("*"))).sort()
      assert.deepStrictEqual(
        keys,
        [
          "app:changes",
          "app:live",
          ...["absent-one", "closed-one", "live-one"].map((id) => `app:s:${hashOf(id)}`).sort(),
          "app:version"
        ].sort()
      )
      // A close takes the stream out of the live index.
      yield* tracker.apply(closed("live-one", 2, T0 + 1000, { createdAt: T0 }))
      assert.strictEqual(yield* Effect.promise(() => client.zcard("app:live")), 0)
    }).pipe(Effect.scoped))

  it.live("a live stream whose entry expired leaves the live index when another goes live", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const { tracker } = yield* storeAndTracker({ url: redis.url, liveRetention: "300 millis" })
      yield* tracker.apply(created("forgotten", 1, T0))
      // Written again while live: its member is refreshed, not added, and nothing is dropped.
      yield* tracker.apply(created("forgotten", 2, T0 + 1000))
      assert.strictEqual(yield* Effect.promise(() => client.zcard(`${PREFIX}live`)), 1)
      yield* Effect.sleep("600 millis")
      assert.deepStrictEqual(yield* tracker.live, [])
      yield* tracker.apply(created("next", 1, T0))
      assert.deepStrictEqual(yield* Effect.promise(() => client.zrange(`${PREFIX}live`, 0, -1)), [hashOf("next")])
    }).pipe(Effect.scoped))

  it.live("an expired closed entry is forgotten, and the next read re-checks the stream", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const calls = yield* Ref.make(0)
      const history = [created("brief", 1, T0), closed("brief", 2, T0 + 1000, { createdAt: T0 })]
      const tracker = yield* trackerOn(
        { url: redis.url, retention: "300 millis" },
        countingState(() => oracle(history), calls)
      )
      yield* tracker.apply(history[1]!)
      assert.strictEqual((yield* tracker.peek("brief"))?.state, "closed")
      yield* Effect.sleep("700 millis")
      assert.isUndefined(yield* tracker.peek("brief"))
      const status = yield* tracker.get("brief")
      assert.strictEqual(status?.state, "closed")
      assert.deepStrictEqual(status?.state === "closed" && status.closedAt, seconds(T0 + 1000))
      assert.strictEqual(yield* Ref.get(calls), 1)
    }).pipe(Effect.scoped))

  it.live("memory per stream is bounded: a few hundred bytes, and the id at most 2048 characters; the feed is capped", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const tracker = yield* trackerOn({ url: redis.url, changesLimit: 100 }, noDescribe)
      const usage = (streamId: string) =>
        Effect.promise(() => client.memory("USAGE", `${PREFIX}s:${hashOf(streamId)}`, "SAMPLES", 0))
      yield* tracker.apply(created("match-42", 1, T0))
      // Measured (Redis 7.0): the key, its expiry, and the version and the entry's JSON as one string.
      assert.isAtMost(Number(yield* usage("match-42")), 600)
      const longest = "x".repeat(2048)
      yield* tracker.apply(created(longest, 1, T0))
      // The allocator rounds the 2 KiB value up to its size class.
      assert.isAtMost(Number(yield* usage(longest)), 3 * 1024)
      const error = yield* Effect.flip(tracker.apply(created("x".repeat(2049), 1, T0)))
      assert.strictEqual(error._tag, "TrackerUnavailableError")
      // 1 000 changes, about 100 kept (trimmed by whole nodes of 100).
      for (let i = 0; i < 500; i++) {
        yield* tracker.apply(created("flapping", 2 * i + 1, T0 + i * 2000))
        yield* tracker.apply(closed("flapping", 2 * i + 2, T0 + i * 2000 + 1000))
      }
      assert.isAtMost(yield* Effect.promise(() => client.xlen(`${PREFIX}changes`)), 200)
    }).pipe(Effect.scoped))
})

describe("RedisTrackerStore: options and layers", () => {
  it.effect("refuses options it cannot use with InvalidRequestError, before connecting", () =>
    Effect.gen(function*() {
      for (
        const [options, parameter] of [
          [{ url: "http://localhost" }, "url"],
          [{ commandTimeout: "soon" }, "commandTimeout"],
          [{ connectTimeout: Duration.infinity }, "connectTimeout"],
          [{ retention: "31 days" }, "retention"],
          [{ absentRetention: "0 millis" }, "absentRetention"],
          [{ liveRetention: "-1 seconds" }, "liveRetention"],
          [{ changesLimit: 0 }, "changesLimit"],
          [{ liveLimit: 1.5 }, "liveLimit"],
          [{ copyLimit: -1 }, "copyLimit"],
          [{ recheckLease: "2 hours" }, "recheckLease"],
          [{ keyPrefix: 42 }, "keyPrefix"]
        ] as const
      ) {
        const error = yield* Effect.flip(
          RedisTrackerStore.make({ ...{ url: "redis://127.0.0.1:1" }, ...options } as RedisTrackerStore.Options)
        )
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual(error.parameter, parameter)
      }
    }).pipe(Effect.scoped))

  it.live("layerConfig: two instances configured by ZEGO_TRACKER_REDIS_URL and _PREFIX share the streams", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const env = ConfigProvider.fromMap(
        new Map([["ZEGO_TRACKER_REDIS_URL", redis.url], ["ZEGO_TRACKER_REDIS_PREFIX", "env:"]])
      )
      const TrackerLive = RedisTrackerStore.layerConfig(RedisTrackerStore.configFromEnv, { maxAge: "10 seconds" }).pipe(
        Layer.provide(Layer.succeed(StreamState.StreamState, noDescribe)),
        Layer.provide(Layer.setConfigProvider(env))
      )
      // Two builds: two stores, two sets of connections.
      const one = Context.get(yield* Layer.build(TrackerLive), StreamTracker.StreamTracker)
      const two = Context.get(yield* Layer.build(TrackerLive), StreamTracker.StreamTracker)
      yield* one.apply(created("env-stream", 1, T0))
      assert.strictEqual((yield* two.peek("env-stream"))?.state, "live")
      assert.strictEqual(yield* Effect.promise(() => client.exists(`env:s:${hashOf("env-stream")}`)), 1)
    }).pipe(Effect.scoped))

  it.effect("layer fails like make", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(
          RedisTrackerStore.layer({ url: "nope" }).pipe(
            Layer.provide(Layer.succeed(StreamState.StreamState, noDescribe))
          )
        )
      )
      assert.strictEqual(exit._tag, "Failure")
    }).pipe(Effect.scoped))
})
