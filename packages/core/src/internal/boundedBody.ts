/**
 * Reads a request body up to a cap, from its stream. A server that stops reading a body it is still being sent
 * closes the connection (Node resets it), and the sender never sees the answer; so the rest of a body past the cap
 * is read and dropped, up to {@link MAX_DRAIN_BYTES} more, and then the sender can be told 413.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** How much of a body past the cap is read and dropped so that its sender gets an answer. */
export const MAX_DRAIN_BYTES = 1024 * 1024

/** A body: its bytes, or too large (`drained`: read to its end, so the connection can serve another request). */
export type Body =
  | { readonly _tag: "Read"; readonly bytes: Uint8Array }
  | { readonly _tag: "TooLarge"; readonly drained: boolean }

/** Reads `stream` whole when it holds at most `maxBytes`; keeps nothing of a larger one. */
export const read = <E, R>(stream: Stream.Stream<Uint8Array, E, R>, maxBytes: number): Effect.Effect<Body, E, R> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          size += chunk.byteLength
          if (size <= maxBytes) chunks.push(chunk)
          else chunks.length = 0
          return size <= maxBytes + MAX_DRAIN_BYTES
        })
      ),
      Effect.map((): Body => {
        if (size > maxBytes) return { _tag: "TooLarge", drained: size <= maxBytes + MAX_DRAIN_BYTES }
        const bytes = new Uint8Array(size)
        let at = 0
        for (const chunk of chunks) {
          bytes.set(chunk, at)
          at += chunk.byteLength
        }
        return { _tag: "Read", bytes }
      })
    )
  })
