// The tracker on a real redis-server that fails: an instance killed mid-apply, Redis paused (SIGSTOP), down longer
// than ZEGOCLOUD's retries, restarted empty, or holding values it did not write. Nothing is acknowledged that is not
// applied, nothing hangs, and everything converges once Redis is back, without a restart.
import { CallbackReceiver, Endpoints, StreamState, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { RedisNonceStore, RedisTrackerStore } from "@effect-zego/redis"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import { Redis } from "ioredis"
import { createHash } from "node:crypto"
import { createServer } from "node:http"
import { startRedis } from "./redisServer.js"
import {
  closed,
  countingState,
  created,
  Delivered,
  oracle,
  settled,
  signedCallback,
  T0,
  trackerOn
} from "./trackerFixtures.js"

const PREFIX = "effect-zego:tracker:"
const noDescribe = countingState(() => Effect.die("no describe expected"), Ref.unsafeMake(0))
const quiet = Logger.minimumLogLevel(LogLevel.Error)

const clientOf = (url: string) =>
  Effect.acquireRelease(Effect.sync(() => new Redis(url)), (client) => Effect.sync(() => client.disconnect()))
const hashOf = (streamId: string) => createHash("sha256").update(streamId, "utf8").digest("base64url")

/** Waits (polling, at most `seconds`) until `done` holds; fails the test with `what` otherwise. */
const eventually = <E>(what: string, done: Effect.Effect<boolean, E>, seconds = 20) =>
  Effect.gen(function*() {
    const deadline = Date.now() + seconds * 1000
    while (!(yield* Effect.orElseSucceed(done, () => false))) {
      if (Date.now() > deadline) return assert.fail(`not within ${seconds} s: ${what}`)
      yield* Effect.sleep("50 millis")
    }
  })

/** How long `effect` took, in ms, with its outcome. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const started = Date.now()
    const exit = yield* Effect.exit(effect)
    return { exit, millis: Date.now() - started }
  })

/** Collects every change an instance's `changes` publishes, from now on. */
const recordChanges = (tracker: StreamTracker.Service) =>
  Effect.gen(function*() {
    const log: Array<StreamTracker.Change> = []
    const changes = yield* tracker.subscribe
    yield* Effect.forkScoped(Stream.runForEach(changes, (change) => Effect.sync(() => log.push(change))))
    return log
  })

/** The states the feed in Redis recorded for `streamId`, in the order written. */
const feedOf = (client: Redis, streamId: string) =>
  Effect.map(
    Effect.promise(() => client.xrange(`${PREFIX}changes`, "-", "+")),
    (items) =>
      items.flatMap(([, fields]) => {
        try {
          const change = JSON.parse(fields[1] ?? "") as { readonly s: string; readonly i: string }
          return change.i === streamId ? [change.s] : []
        } catch {
          return []
        }
      })
  )

/** A tracker on the Redis store at `url`, its store passed through `wrap` (the test's way to stop it mid-apply). */
const trackerWith = (url: string, wrap: (store: StreamTracker.Store) => StreamTracker.Store) =>
  Effect.orDie(Effect.flatMap(
    RedisTrackerStore.make({ url }),
    (store) =>
      StreamTracker.make({ store: wrap(store) }).pipe(Effect.provideService(StreamState.StreamState, noDescribe))
  ))

describe("an instance killed in the middle of an apply", () => {
  it.live("before its write reached Redis: nothing written, nothing published; the retry elsewhere applies it once", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const deciding = yield* Deferred.make<void>()
      const dying = yield* trackerWith(redis.url, (store) => ({
        ...store,
        compareAndSet: () => Effect.zipRight(Deferred.succeed(deciding, undefined), Effect.never)
      }))
      const other = yield* trackerOn({ url: redis.url }, noDescribe)
      const log = yield* recordChanges(other)
      const apply = yield* Effect.fork(dying.apply(created("killed", 1, T0)))
      yield* Deferred.await(deciding)
      yield* Fiber.interrupt(apply)
      assert.isUndefined(yield* other.peek("killed"))
      // No 2xx went out, so ZEGOCLOUD retries; the load balancer sends the retry to another instance.
      yield* other.apply(created("killed", 1, T0))
      assert.strictEqual((yield* other.peek("killed"))?.state, "live")
      yield* eventually("the change is published", Effect.sync(() => log.length === 1))
      assert.deepStrictEqual(yield* feedOf(client, "killed"), ["live"])
    }).pipe(Effect.scoped))

  it.live("after its write reached Redis, before it answered: applied; the retry changes and publishes nothing more", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const written = yield* Deferred.make<void>()
      const dying = yield* trackerWith(redis.url, (store) => ({
        ...store,
        compareAndSet: (...args) =>
          Effect.zipRight(
            store.compareAndSet(...args),
            Effect.zipRight(Deferred.succeed(written, undefined), Effect.never)
          )
      }))
      const other = yield* trackerOn({ url: redis.url }, noDescribe)
      const apply = yield* Effect.fork(dying.apply(created("half", 1, T0)))
      yield* Deferred.await(written)
      yield* Fiber.interrupt(apply)
      assert.strictEqual((yield* other.peek("half"))?.state, "live")
      yield* other.apply(created("half", 1, T0))
      assert.deepStrictEqual(yield* feedOf(client, "half"), ["live"])
    }).pipe(Effect.scoped))

  it.live(
    "random histories, each apply interrupted after a random delay, then ZEGOCLOUD's retries through another instance: the rule's answer, each change recorded once",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const client = yield* clientOf(redis.url)
        const [dying, other] = yield* Effect.all([
          trackerOn({ url: redis.url }, noDescribe),
          trackerOn({ url: redis.url }, noDescribe)
        ])
        const runtime = yield* Effect.runtime<never>()
        let run = 0
        const property = FastCheck.asyncProperty(
          Delivered("s", 0, 1),
          FastCheck.array(FastCheck.integer({ min: 0, max: 4 }), { minLength: 32, maxLength: 32 }),
          ({ delivery }, delays) => {
            const streamId = `killed-${run++}`
            const events = delivery.map((event) => ({ ...event, streamId }))
            return Runtime.runPromise(runtime)(Effect.gen(function*() {
              const reference = yield* Effect.scoped(Effect.flatMap(
                StreamTracker.make(),
                (tracker) => Effect.zipRight(Effect.forEach(events, tracker.apply), tracker.peek(streamId))
              )).pipe(Effect.provideService(StreamState.StreamState, noDescribe))
              // Every apply on the dying instance is cut short at some point of its read, decision or write.
              yield* Effect.forEach(events, (event, i) =>
                Effect.flatMap(Effect.fork(dying.apply(event)), (fiber) =>
                  Effect.zipRight(
                    Effect.sleep(`${delays[i % delays.length]!} millis`),
                    Fiber.interrupt(fiber)
                  )))
              yield* Effect.forEach(events, other.apply)
              assert.deepStrictEqual(settled(yield* dying.peek(streamId)), settled(reference))
              const feed = yield* feedOf(client, streamId)
              feed.forEach((state, i) =>
                assert.notStrictEqual(state, feed[i - 1], "a change recorded once")
              )
              assert.strictEqual(feed.at(-1), reference?.state)
            }))
          }
        )
        yield* Effect.promise(() => FastCheck.assert(property, { numRuns: 40 }))
      }).pipe(Effect.scoped),
    { timeout: 240_000 }
  )
})

describe("Redis paused (SIGSTOP), then resumed", () => {
  it.live(
    "apply fails typed in bounded time, reads answer the last known status marked stale or a typed error; resumed, the retry applies and every instance converges",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const options = { url: redis.url, commandTimeout: "200 millis" } as const
        const [one, two] = yield* Effect.all([trackerOn(options, noDescribe), trackerOn(options, noDescribe)])
        const logs = yield* Effect.forEach([one, two], recordChanges)
        yield* one.apply(created("paused", 1, T0))
        const known = yield* two.peek("paused")
        yield* redis.pause
        const close = closed("paused", 2, T0 + 5000, { createdAt: T0 })
        const refused = yield* timed(one.apply(close))
        assert.isTrue(refused.exit._tag === "Failure", "not acknowledged")
        assert.isBelow(refused.millis, 5000)
        const stale = yield* timed(two.get("paused"))
        assert.deepStrictEqual(stale.exit._tag === "Success" && stale.exit.value, { ...known!, stale: true })
        assert.isBelow(stale.millis, 5000)
        const unknown = yield* timed(Effect.flip(two.get("never-seen")))
        assert.strictEqual(unknown.exit._tag === "Success" && unknown.exit.value._tag, "TrackerUnavailableError")
        assert.isBelow(unknown.millis, 5000)
        yield* redis.resume
        // ZEGOCLOUD's retry, a few seconds later, on the other instance.
        yield* eventually("the retry is applied", Effect.as(two.apply(close), true))
        for (const tracker of [one, two]) {
          const status = yield* tracker.peek("paused")
          assert.strictEqual(status?.state, "closed")
          assert.isUndefined(status?.stale)
        }
        for (const log of logs) {
          yield* eventually("both changes published", Effect.sync(() => log.length === 2))
          assert.deepStrictEqual(log.map((change) => change.state), ["live", "closed"])
        }
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "through the endpoints: a callback gets 503 while Redis is paused, then 200 on the retry; a read says stale meanwhile",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const secret = Redacted.make("tracker-callback-secret")
        const app = HttpServer.serve(Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })).pipe(
          Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
          Layer.provideMerge(Layer.mergeAll(
            RedisTrackerStore.layer({ url: redis.url, commandTimeout: "200 millis" }, { maxAge: "1 second" }),
            CallbackReceiver.layer({ secret })
          )),
          Layer.provideMerge(ZegoMock.layerServices({ appId: 4242, serverSecret: Redacted.make("server-secret") }))
        )
        const callback = signedCallback(secret, "match-42")
        yield* Effect.gen(function*() {
          const { port } = (yield* HttpServer.HttpServer).address as HttpServer.TcpAddress
          const request = (path: string, body?: string) =>
            Effect.promise(async () => {
              const response = await fetch(
                `http://127.0.0.1:${port}${path}`,
                body === undefined ? {} : {
                  method: "POST",
                  body
                }
              )
              return {
                status: response.status,
                retryAfter: response.headers.get("retry-after"),
                json: await response.json() as Record<string, unknown>
              }
            })
          assert.strictEqual((yield* request("/zego/callback", callback("stream_create", 1, "c1"))).status, 200)
          yield* redis.pause
          const close = callback("stream_close", 2, "c2")
          const refused = yield* request("/zego/callback", close)
          assert.strictEqual(refused.status, 503)
          assert.strictEqual(refused.json.error, "TrackerUnavailableError")
          assert.strictEqual(refused.retryAfter, "1")
          const read = yield* request("/streams/match-42")
          assert.strictEqual(read.status, 200)
          assert.strictEqual(read.json.state, "live")
          assert.strictEqual(read.json.stale, true)
          yield* redis.resume
          const retry = yield* request("/zego/callback", close)
          assert.strictEqual(retry.status, 200)
          assert.isUndefined(retry.json.replay)
          const after = yield* request("/streams/match-42")
          assert.strictEqual(after.json.state, "closed")
          assert.isUndefined(after.json.stale)
        }).pipe(Effect.provide(app))
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )
})

describe("through the endpoints, both stores on Redis", () => {
  it.live(
    "a replay, of the close or of the older create after it, is answered as one; its apply, sent beside the claim, writes and publishes nothing",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const client = yield* clientOf(redis.url)
        const secret = Redacted.make("tracker-callback-secret")
        const app = HttpServer.serve(Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })).pipe(
          Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
          Layer.provideMerge(Layer.mergeAll(
            RedisTrackerStore.layer({ url: redis.url }),
            CallbackReceiver.layer({ secret }).pipe(Layer.provide(RedisNonceStore.layer({ url: redis.url })))
          )),
          Layer.provideMerge(ZegoMock.layerServices({ appId: 4242, serverSecret: Redacted.make("server-secret") }))
        )
        const callback = signedCallback(secret, "replayed")
        yield* Effect.gen(function*() {
          const { port } = (yield* HttpServer.HttpServer).address as HttpServer.TcpAddress
          const post = (body: string) =>
            Effect.promise(async () => {
              const response = await fetch(`http://127.0.0.1:${port}/zego/callback`, { method: "POST", body })
              return { status: response.status, json: await response.json() as Record<string, unknown> }
            })
          const create = callback("stream_create", 1, "r1")
          const close = callback("stream_close", 2, "r2")
          for (const body of [create, close]) {
            const answer = yield* post(body)
            assert.strictEqual(answer.status, 200)
            assert.isUndefined(answer.json.replay)
          }
          const version = yield* Effect.promise(() => client.get(`${PREFIX}version`))
          for (const body of [close, create, close, create]) {
            const answer = yield* post(body)
            assert.strictEqual(answer.status, 200)
            assert.strictEqual(answer.json.replay, true)
          }
          assert.strictEqual(yield* Effect.promise(() => client.get(`${PREFIX}version`)), version, "no write")
          assert.deepStrictEqual(yield* feedOf(client, "replayed"), ["live", "closed"])
          const tracker = yield* StreamTracker.StreamTracker
          assert.strictEqual((yield* tracker.peek("replayed"))?.state, "closed")
        }).pipe(Effect.provide(app))
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )
})

describe("Redis down longer than ZEGOCLOUD's retries", () => {
  const history = [created("outage", 1, T0), closed("outage", 2, T0 + 5000, { createdAt: T0 })]

  it.live(
    "paused through all six deliveries of a close: the close is lost, and the next read after maxAge repairs it",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const calls = yield* Ref.make(0)
        // No copy: each delivery first reads the entry, and that read times out, so no write is ever sent.
        const tracker = yield* trackerOn(
          { url: redis.url, commandTimeout: "300 millis", copyLimit: 0 },
          countingState(() => oracle(history), calls),
          { maxAge: "1 second" }
        )
        yield* tracker.apply(history[0]!)
        yield* redis.pause
        // The first delivery and ZEGOCLOUD's 5 retries (2, 4, 8, 16, 32 s apart in life): each refused.
        for (let delivery = 0; delivery < 6; delivery++) {
          assert.strictEqual((yield* Effect.flip(tracker.apply(history[1]!)))._tag, "TrackerUnavailableError")
        }
        yield* redis.resume
        // Lost: Redis still says live, as it was told last.
        assert.strictEqual((yield* tracker.peek("outage"))?.state, "live")
        yield* Effect.sleep("1200 millis")
        const status = yield* tracker.get("outage")
        assert.strictEqual(status?.state, "closed")
        assert.strictEqual(status?.source, "describe")
        assert.strictEqual(yield* Ref.get(calls), 1)
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "paused through all six deliveries of a close, decided on the copy: refused each time, and the first delivery's write, sent before the pause showed, runs when Redis resumes",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const calls = yield* Ref.make(0)
        const tracker = yield* trackerOn(
          { url: redis.url, commandTimeout: "300 millis" },
          countingState(() => oracle(history), calls),
          { maxAge: "1 minute" }
        )
        const log = yield* recordChanges(tracker)
        yield* tracker.apply(history[0]!)
        yield* eventually("the create is published", Effect.sync(() => log.length === 1))
        yield* redis.pause
        for (let delivery = 0; delivery < 6; delivery++) {
          assert.strictEqual((yield* Effect.flip(tracker.apply(history[1]!)))._tag, "TrackerUnavailableError")
        }
        yield* redis.resume
        // Decided on the version it checked, so right when it runs: the close is applied once, and published once.
        yield* eventually("the close is published", Effect.sync(() => log.length === 2))
        const status = yield* tracker.get("outage")
        assert.strictEqual(status?.state, "closed")
        assert.strictEqual(status?.source, "callback")
        // A retry after Redis is back changes nothing more.
        yield* tracker.apply(history[1]!)
        yield* Effect.sleep("300 millis")
        assert.deepStrictEqual(log.map((change) => change.state), ["live", "closed"])
        assert.strictEqual(yield* Ref.get(calls), 0)
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "restarted empty (no persistence): reads re-check, writes and the changes feed go on without a restart",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const calls = yield* Ref.make(0)
        const state = countingState(() => oracle(history), calls)
        const options = { url: redis.url, commandTimeout: "200 millis" } as const
        const [one, two] = yield* Effect.all([trackerOn(options, state), trackerOn(options, state)])
        const log = yield* recordChanges(two)
        yield* one.apply(history[0]!)
        yield* eventually("the create is published", Effect.sync(() => log.length === 1))
        yield* redis.stop
        assert.strictEqual((yield* Effect.flip(one.apply(history[1]!)))._tag, "TrackerUnavailableError")
        yield* redis.start
        // Everything was lost with the server: the next read asks ZEGOCLOUD.
        yield* eventually("Redis answers again", Effect.map(one.peek("outage"), (status) => status === undefined))
        const status = yield* one.get("outage")
        assert.strictEqual(status?.state, "closed")
        assert.strictEqual(yield* Ref.get(calls), 1)
        // And a new stream's change reaches the other instance: its feed found the new, empty stream.
        yield* one.apply(created("after-restart", 1, T0))
        yield* eventually(
          "the new change is published",
          Effect.sync(() => log.some((change) => change.streamId === "after-restart"))
        )
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "down when the instances start: they start, fail typed, and work once Redis is up",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        yield* redis.stop
        const options = { url: redis.url, commandTimeout: "200 millis", connectTimeout: "200 millis" } as const
        const [one, two] = yield* Effect.all([trackerOn(options, noDescribe), trackerOn(options, noDescribe)])
        const log = yield* recordChanges(two)
        assert.strictEqual((yield* Effect.flip(one.apply(created("late", 1, T0))))._tag, "TrackerUnavailableError")
        yield* redis.start
        yield* eventually("the apply goes through", Effect.as(one.apply(created("late", 1, T0)), true))
        // Each instance reconnects on its own back-off (up to a second): the other may still be on its way back.
        yield* eventually(
          "the other instance reads it",
          Effect.map(two.peek("late"), (entry) => entry?.state === "live")
        )
        yield* eventually("the change is published", Effect.sync(() => log.length === 1))
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 60_000 }
  )
})

describe("values the store did not write", () => {
  it.live("a corrupt entry reads as unknown, is re-checked and replaced; a corrupt change is skipped", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const calls = yield* Ref.make(0)
      const tracker = yield* trackerOn(
        { url: redis.url },
        countingState((streamId) => oracle([created(streamId, 1, T0)]), calls)
      )
      const log = yield* recordChanges(tracker)
      const spoil: ReadonlyArray<(key: string) => Promise<unknown>> = [
        (key: string) => client.set(key, "garbage"),
        (key: string) => client.set(key, "12 {\"s\":\"live\""),
        (key: string) => client.set(key, `3 ${JSON.stringify({ s: "absent", i: "someone-else", c: 0 })}`),
        (key: string) => client.set(key, `4 ${JSON.stringify({ s: "live", i: "x", c: 1e300, o: "callback" })}`),
        (key: string) => client.rpush(key, "a list"),
        (key: string) => client.hset(key, "v", "1")
      ]
      for (const [i, write] of spoil.entries()) {
        const streamId = `spoilt-${i}`
        yield* Effect.promise(() => write(`${PREFIX}s:${hashOf(streamId)}`))
        assert.isUndefined(yield* tracker.peek(streamId), streamId)
        assert.strictEqual((yield* tracker.get(streamId))?.state, "live", streamId)
        assert.strictEqual((yield* tracker.peek(streamId))?.state, "live", streamId)
      }
      assert.strictEqual(yield* Ref.get(calls), spoil.length)
      // A callback on a corrupt entry is applied over it.
      yield* Effect.promise(() => client.set(`${PREFIX}s:${hashOf("spoilt-apply")}`, "garbage"))
      yield* tracker.apply(closed("spoilt-apply", 2, T0 + 1000))
      assert.strictEqual((yield* tracker.peek("spoilt-apply"))?.state, "closed")
      // Junk in the feed: skipped; the next change still comes.
      yield* Effect.promise(() => client.xadd(`${PREFIX}changes`, "*", "e", "junk"))
      yield* Effect.promise(() => client.xadd(`${PREFIX}changes`, "*", "x", "y"))
      yield* tracker.apply(created("after-junk", 1, T0))
      yield* eventually(
        "the change after the junk is published",
        Effect.sync(() => log.some((change) => change.streamId === "after-junk"))
      )
    }).pipe(Effect.provide(quiet), Effect.scoped))

  it.live("a tracker key of another type fails the write typed, writing nothing", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* clientOf(redis.url)
      const tracker = yield* trackerOn({ url: redis.url }, noDescribe)
      yield* Effect.promise(() => client.set(`${PREFIX}live`, "not a sorted set"))
      const error = yield* Effect.flip(tracker.apply(created("blocked", 1, T0)))
      assert.strictEqual(error._tag, "TrackerUnavailableError")
      assert.include(error.message, "another type")
      assert.strictEqual(yield* Effect.promise(() => client.exists(`${PREFIX}s:${hashOf("blocked")}`)), 0)
    }).pipe(Effect.provide(quiet), Effect.scoped))
})
