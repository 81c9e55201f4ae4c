/**
 * What a run's calls to the server did before it failed: how many requests it sent, and how long it spent on them
 * (from the first request sent to the last one's end, on the monotonic clock). The core retries what is worth
 * retrying and fails with the last error alone; the one line a failure prints then says that it retried, and for
 * how long ({@link of}).
 *
 * The run's {@link tracked} keeps a record in a `FiberRef`, which the fibers that send its requests inherit; the
 * commands' HTTP client notes each request there ({@link note}). This module loads no HTTP client: the error
 * reporting reads it.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"

/** How many requests a failed run sent, and over how long. */
export interface Tries {
  readonly requests: number
  readonly elapsed: Duration.Duration
}

/** A run's requests so far: how many were sent, when the first was sent and when the last ended (nanoseconds). */
interface Record {
  requests: number
  first: bigint
  last: bigint
}

const current = FiberRef.unsafeMake<Record | undefined>(undefined)

/** The tries noted for each failure, by the error object: a run fails once, and its error goes when the run does. */
const noted = new WeakMap<object, Tries>()

const now = Clock.currentTimeNanos

/**
 * `request` (one request of an HTTP client: `HttpClient.transform(client, note)`), noted in the current run's record
 * if it keeps one: sent, then ended.
 */
export const note = <A, E, R>(request: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(FiberRef.get(current), (record) =>
    record === undefined ? request : Effect.zipRight(
      Effect.map(now, (sent) => {
        if (record.requests++ === 0) record.first = sent
      }),
      Effect.ensuring(request, Effect.map(now, (ended) => void (record.last = ended)))
    ))

/**
 * `run`, keeping a record of the requests it sends through a client that notes them ({@link note}); when it fails after more than
 * one request, its error is noted with their number and the time they took, for {@link of}.
 */
export const tracked = <A, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const record: Record = { requests: 0, first: 0n, last: 0n }
    return run.pipe(
      Effect.locally(current, record),
      Effect.tapError((error) =>
        Effect.sync(() => {
          if (record.requests > 1 && typeof error === "object" && error !== null) {
            noted.set(error, { requests: record.requests, elapsed: Duration.nanos(record.last - record.first) })
          }
        })
      )
    )
  })

/** The tries of a run that failed with `error` after more than one request, if {@link tracked} noted them. */
export const of = (error: unknown): Tries | undefined =>
  typeof error === "object" && error !== null ? noted.get(error) : undefined

/** `Gave up after 4 attempts in 1.9 s.`: what the line of a failure says of its tries. */
export const describe = (tries: Tries): string =>
  `Gave up after ${tries.requests} attempts in ${(Duration.toMillis(tries.elapsed) / 1000).toFixed(1)} s.`
