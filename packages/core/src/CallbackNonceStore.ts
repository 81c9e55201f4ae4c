/**
 * Where a callback receiver keeps nonces for the freshness window, so that a replayed callback is acknowledged
 * without being applied again and a retried one is applied once: the {@link NonceStore} interface and its
 * {@link Claim}s, the in-memory {@link memoryNonceStore} (a receiver's default), and the {@link CallbackNonceStore}
 * service, to give every receiver one store (the Redis package's, shared by processes).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { CallbackUnavailableError } from "./CallbackError.js"
import { DEFAULT_WINDOW, validateWindow } from "./internal/callbackWindow.js"
import { boundedDuration } from "./ServerApi.js"
import { InvalidRequestError } from "./ZegoError.js"

/**
 * What a {@link NonceStore} answers a delivery that asks for its nonce:
 *
 * - `Claimed`: this delivery holds the nonce. Apply its event, then `commit` (its replays are then acknowledged) or
 *   `release` (a retry is let through). A claim settled neither way lapses after the store's pending timeout, so
 *   that a process that died mid-apply does not lose the event: ZEGOCLOUD's next retry is applied.
 * - `Applied`: an earlier delivery's event was applied: a replay, to acknowledge (2xx).
 * - `Pending`: an earlier delivery holds the nonce and has not applied its event yet: answer 503, so that
 *   ZEGOCLOUD retries and learns the outcome (it must not get a 2xx for an event that may still fail).
 *
 * @since 0.1.0
 * @category models
 */
export type Claim =
  | { readonly _tag: "Claimed"; readonly token: string }
  | { readonly _tag: "Applied" }
  | { readonly _tag: "Pending" }

/**
 * Where nonces are kept for the freshness window, each either claimed by a delivery that is being applied or
 * applied. The in-memory {@link memoryNonceStore} is the default; the Redis package offers one shared by several
 * processes.
 *
 * @example
 * ```ts
 * import { CallbackNonceStore, CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // A store that keeps nothing: every delivery claims its nonce (replays get through: for a test only).
 * const forgetful: CallbackNonceStore.NonceStore = {
 *   claim: () => Effect.succeed({ _tag: "Claimed", token: "t" }),
 *   commit: () => Effect.void,
 *   release: () => Effect.void
 * }
 * const ReceiverTest = CallbackReceiver.layer({ secret: Redacted.make("callback-secret"), nonces: forgetful })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface NonceStore {
  /** Claims `nonce` for one delivery, to be kept until `expiresAt` (epoch ms) once applied. See {@link Claim}. */
  readonly claim: (nonce: string, expiresAt: number) => Effect.Effect<Claim, CallbackUnavailableError>
  /** Marks the claim's event applied: until `expiresAt`, later deliveries of the nonce are `Applied`. */
  readonly commit: (nonce: string, token: string, expiresAt: number) => Effect.Effect<void, CallbackUnavailableError>
  /** Gives a claim back (its event could not be applied), so that ZEGOCLOUD's retry is let through. */
  readonly release: (nonce: string, token: string) => Effect.Effect<void>
  /**
   * Optional: marks `nonce` applied in one step, for a delivery whose event was just applied (by an idempotent
   * apply): `"first"` when no earlier delivery had committed it (a claim another delivery still holds included: this
   * one's event is applied), `"replay"` when one had. With it, `receiveAndApply` applies first and then settles the
   * delivery with this one call (or lets the apply's own store settle it within its write: see {@link Delivery}),
   * instead of a claim beside the apply and a commit.
   */
  readonly settleApplied?:
    | ((nonce: string, expiresAt: number) => Effect.Effect<Settled, CallbackUnavailableError>)
    | undefined
}

/**
 * How a delivery whose event was applied was settled: `"first"`, its nonce newly committed; `"replay"`, an earlier
 * delivery had committed it.
 *
 * @since 0.1.0
 * @category models
 */
export type Settled = "first" | "replay"

/**
 * One delivery of a callback, handed with its event to the apply of `CallbackReceiver.Receiver.receiveAndApply` when
 * its nonce store settles nonces after the apply (`settleApplied`). A store the apply writes to may commit the
 * delivery's nonce within that write, atomically, and then set `settled` (once): the Redis tracker store does, for a
 * Redis nonce store on the same Redis, so that a callback waits for one round trip, not two. A delivery that no store
 * settled is settled by the receiver after the apply.
 *
 * @example
 * ```ts
 * import { CallbackNonceStore } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const nonces = yield* CallbackNonceStore.memoryNonceStore()
 *   const delivery: CallbackNonceStore.Delivery = {
 *     nonce: "n1",
 *     expiresAt: Date.now() + 60_000,
 *     store: nonces,
 *     settled: undefined
 *   }
 *   // A store whose write committed the nonce says how it found it: first committed, or already (a replay).
 *   delivery.settled ??= "first"
 *   return delivery.settled
 * })
 * Effect.runPromise(program).then((settled) => assert.strictEqual(settled, "first"))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery {
  readonly nonce: string
  /** Until when (epoch ms) the nonce is kept once committed. */
  readonly expiresAt: number
  /** The nonce store the receiver takes its nonces from: a store settles only deliveries of stores it can write. */
  readonly store: NonceStore
  /** Set by the store whose write committed the nonce, to how it found it; `undefined` while none has. */
  settled: Settled | undefined
}

/**
 * The sustained callbacks per second that the default nonce store takes, over its whole window.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CALLBACK_RATE = 1000

const invalid = (parameter: string, detail: string) => new InvalidRequestError({ parameter, detail })

/** Nonces held at `rate` a second: each is held for the window, and through the second that ends it. */
function capacityFor(rate: number, windowMillis: number): number {
  return Math.ceil(rate * (windowMillis / 1000 + 1))
}

/**
 * The default capacity of {@link memoryNonceStore}: {@link DEFAULT_CALLBACK_RATE} over the default window and the
 * second that ends it (a callback stamped exactly one window ago is still fresh, so its nonce is still held).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_NONCE_CAPACITY = capacityFor(DEFAULT_CALLBACK_RATE, Duration.toMillis(DEFAULT_WINDOW))

/**
 * How long a claim may stay neither committed nor released before another delivery may claim the nonce: longer
 * than an apply takes, well within ZEGOCLOUD's retries (2, 6, 14, 30 and 62 s after the first delivery).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PENDING_TIMEOUT: Duration.Duration = Duration.seconds(10)

/**
 * Options of {@link memoryNonceStore}.
 *
 * @example
 * ```ts
 * import type { CallbackNonceStore } from "@effect-zego/core"
 *
 * // Sized for 5 000 callbacks a second over a 2-minute window: 600 000 nonces.
 * const options: CallbackNonceStore.MemoryNonceStoreOptions = { rate: 5000, window: "2 minutes" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryNonceStoreOptions {
  /** Sustained callbacks per second to hold for the whole window. Default {@link DEFAULT_CALLBACK_RATE}. */
  readonly rate?: number | undefined
  /** The receiver's freshness window: a nonce is held until its timestamp plus it. Default 5 minutes. */
  readonly window?: Duration.DurationInput | undefined
  /** The most nonces held, when given: instead of `rate` × (the window's seconds + 1). */
  readonly capacity?: number | undefined
  /** See {@link DEFAULT_PENDING_TIMEOUT} (the default). */
  readonly pendingTimeout?: Duration.DurationInput | undefined
}

/** The highest `rate` accepted: a million nonces a second is more than a process takes. */
const MAX_CALLBACK_RATE = 1_000_000
const APPLIED: Claim = { _tag: "Applied" }
const PENDING: Claim = { _tag: "Pending" }
const claimed = (token: number): Claim => ({ _tag: "Claimed", token: String(token) })
const SETTLED_FIRST = Effect.succeed<Settled>("first")
const SETTLED_REPLAY = Effect.succeed<Settled>("replay")

/** A claim not yet settled. */
interface Pending {
  readonly token: number
  /** Epoch ms after which another delivery may claim the nonce. */
  readonly until: number
}

/**
 * Nonces in this process's memory, at most `capacity` (by default `rate` × (the window's seconds + 1): 301 000,
 * each about 115 bytes with a nonce of 14 characters, so about 35 MB when full). Expired ones are swept lazily:
 * from the front of insertion-ordered maps (expiry follows arrival give or take the window), and, only when the
 * store is full, by one pass that is not repeated before the earliest live nonce can have expired. A store full of live
 * nonces refuses (`CallbackUnavailableError`, so ZEGOCLOUD retries) rather than evict one, which would let its
 * replay through. Time is Effect's `Clock`.
 *
 * @example
 * ```ts
 * import { CallbackNonceStore } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const nonces = yield* CallbackNonceStore.memoryNonceStore({ capacity: 1000 })
 *   const expiresAt = Date.now() + 60_000
 *   const first = yield* nonces.claim("n1", expiresAt)
 *   // While the first delivery is being applied, a second one is told to come back later.
 *   const during = yield* nonces.claim("n1", expiresAt)
 *   if (first._tag === "Claimed") yield* nonces.commit("n1", first.token, expiresAt)
 *   return [first._tag, during._tag, (yield* nonces.claim("n1", expiresAt))._tag]
 * })
 * Effect.runPromise(program).then((tags) => assert.deepStrictEqual(tags, ["Claimed", "Pending", "Applied"]))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const memoryNonceStore = (
  options?: MemoryNonceStoreOptions
): Effect.Effect<NonceStore, InvalidRequestError> =>
  Effect.gen(function*() {
    const windowMillis = yield* validateWindow(options?.window)
    const rate = options?.rate ?? DEFAULT_CALLBACK_RATE
    if (typeof rate !== "number" || !(rate > 0) || rate > MAX_CALLBACK_RATE) {
      return yield* invalid("rate", `must be a positive number of callbacks per second, at most ${MAX_CALLBACK_RATE}`)
    }
    const capacity = options?.capacity ?? capacityFor(rate, windowMillis)
    if (!Number.isSafeInteger(capacity) || capacity < 1) return yield* invalid("capacity", "must be a positive integer")
    const pendingMillis = Duration.toMillis(
      yield* boundedDuration("pendingTimeout", options?.pendingTimeout ?? DEFAULT_PENDING_TIMEOUT)
    )
    // Expiries are kept as whole seconds from the store's start: small integers, which V8 keeps without a box.
    const origin = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const secondsOf = (epochMillis: number) => Math.ceil(epochMillis / 1000) - origin
    const millisOf = (seconds: number) => (seconds + origin) * 1000

    /** Applied nonce → expiry (seconds from origin), in the order applied. */
    const applied = new Map<string, number>()
    /** Claimed nonce → its claim, in the order claimed (so by `until`, the timeout being one for all). */
    const pending = new Map<string, Pending>()
    let lastToken = 0
    /** No live applied nonce expires before this (epoch ms): a full pass before it would free nothing. */
    let earliest = Infinity

    const sweepFront = (now: number) => {
      for (const [nonce, expiry] of applied) {
        if (millisOf(expiry) >= now) break
        applied.delete(nonce)
      }
      for (const [nonce, claim] of pending) {
        if (claim.until >= now) break
        pending.delete(nonce)
      }
    }
    const sweepAll = (now: number) => {
      earliest = Infinity
      for (const [nonce, expiry] of applied) {
        const expiresAt = millisOf(expiry)
        if (expiresAt < now) applied.delete(nonce)
        else earliest = Math.min(earliest, expiresAt)
      }
    }

    /** The refusal when no nonce can be added: a store full of live nonces evicts none (its replay would get in). */
    const full = (now: number): CallbackUnavailableError | undefined => {
      if (applied.size + pending.size >= capacity && now > earliest) sweepAll(now)
      return applied.size + pending.size >= capacity
        ? new CallbackUnavailableError({ reason: `the nonce store is full (${capacity} unexpired nonces)` })
        : undefined
    }

    /** Keeps `nonce` applied until `expiresAt`, at the back of the order (deleted first). */
    const keepApplied = (nonce: string, expiresAt: number) => {
      applied.delete(nonce)
      applied.set(nonce, secondsOf(expiresAt))
      earliest = Math.min(earliest, millisOf(secondsOf(expiresAt)))
    }

    const claim: NonceStore["claim"] = (nonce, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        sweepFront(now)
        const expiry = applied.get(nonce)
        if (expiry !== undefined && millisOf(expiry) >= now) return Effect.succeed(APPLIED)
        const held = pending.get(nonce)
        if (held !== undefined && held.until >= now) return Effect.succeed(PENDING)
        const token = ++lastToken
        // Past its window already: the freshness check refuses any replay of it, so it need not be kept.
        if (expiresAt < now) return Effect.succeed(claimed(token))
        const refused = full(now)
        if (refused !== undefined) return Effect.fail(refused)
        // Deleted first, so that a lapsed claim's nonce goes to the back, in `until` order.
        pending.delete(nonce)
        pending.set(nonce, { token, until: now + pendingMillis })
        return Effect.succeed(claimed(token))
      })

    const commit: NonceStore["commit"] = (nonce, token, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (pending.get(nonce)?.token === Number(token)) pending.delete(nonce)
        if (expiresAt >= now) keepApplied(nonce, expiresAt)
        return Effect.void
      })

    const release: NonceStore["release"] = (nonce, token) =>
      Effect.sync(() => {
        if (pending.get(nonce)?.token === Number(token)) pending.delete(nonce)
      })

    const settleApplied: NonceStore["settleApplied"] = (nonce, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        sweepFront(now)
        const expiry = applied.get(nonce)
        if (expiry !== undefined && millisOf(expiry) >= now) return SETTLED_REPLAY
        if (expiresAt < now) return SETTLED_FIRST
        // A claim another delivery holds is dropped: this delivery's event is applied, so later ones are replays
        // (the holder's commit or release then changes nothing).
        pending.delete(nonce)
        const refused = full(now)
        if (refused !== undefined) return Effect.fail(refused)
        keepApplied(nonce, expiresAt)
        return SETTLED_FIRST
      })
    return { claim, commit, release, settleApplied }
  })

/**
 * A {@link NonceStore} to use instead of the in-memory one (the Redis package provides one shared by processes).
 *
 * @example
 * ```ts
 * import { CallbackNonceStore, CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // Every receiver built below takes its nonces from this store (with @effect-zego/redis: `RedisNonceStore.layer`).
 * const NoncesLive = Layer.effect(CallbackNonceStore.CallbackNonceStore, CallbackNonceStore.memoryNonceStore({ capacity: 10_000 }))
 * const ReceiverLive = CallbackReceiver.layer({ secret: Redacted.make("callback-secret") }).pipe(Layer.provide(NoncesLive))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class CallbackNonceStore extends Context.Tag("@effect-zego/core/CallbackNonceStore")<
  CallbackNonceStore,
  NonceStore
>() {}
