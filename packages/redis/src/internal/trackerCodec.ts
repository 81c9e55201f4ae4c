/**
 * A tracker entry as compact JSON, and back: what Redis holds is checked like anything from the network, so a value
 * that is not an entry this module wrote is `undefined` (unknown: the tracker re-checks it), never a defect.
 *
 * `{"s":"live","i":"obs-1","c":1700000060000,"o":"callback","t":1700000000000,"k":["create","858012925204410400","1",
 * 1700000000000,1700000000000,true]}`: state, stream id, checkedAt, source, the state's time (since or closedAt),
 * a close's reason in `r`, and the key (kind, room session, stream_seq, time, createdAt, exact) with its bigints as
 * decimal strings. An absent entry has neither time nor key.
 */
import { Callback, type StreamTracker } from "@effect-zego/core"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

/** The longest stream id kept (a callback's is at most 1024 characters, plus the test environment's prefix). */
export const MAX_STREAM_ID = 2048

/** Epoch milliseconds a `Date` can hold. */
const Millis = Schema.Number.pipe(Schema.int(), Schema.between(-8.64e15, 8.64e15))
const Digits = Schema.String.pipe(Schema.pattern(/^[0-9]{1,20}$/))
const Source = Schema.Literal("callback", "describe")
const StreamId = Schema.String.pipe(Schema.maxLength(MAX_STREAM_ID))
const WireKey = Schema.Tuple(
  Schema.Literal("create", "close"),
  Schema.NullOr(Digits),
  Schema.NullOr(Digits),
  Millis,
  Schema.NullOr(Millis),
  Schema.Boolean
)
const Wire = Schema.parseJson(Schema.Union(
  Schema.Struct({ s: Schema.Literal("live"), i: StreamId, c: Millis, o: Source, t: Millis, k: WireKey }),
  Schema.Struct({
    s: Schema.Literal("closed"),
    i: StreamId,
    c: Millis,
    o: Source,
    t: Millis,
    r: Callback.CloseReason,
    k: WireKey
  }),
  Schema.Struct({ s: Schema.Literal("absent"), i: StreamId, c: Millis })
))
type Wire = typeof Wire.Type

const decodeWire = Schema.decodeUnknownEither(Wire)

const keyOf = (key: typeof WireKey.Type): StreamTracker.Key => ({
  kind: key[0],
  roomSessionId: key[1] === null ? undefined : BigInt(key[1]),
  streamSeq: key[2] === null ? undefined : BigInt(key[2]),
  time: key[3],
  createdAt: key[4] ?? undefined,
  exact: key[5]
})

const wireKey = (key: StreamTracker.Key): typeof WireKey.Type => [
  key.kind,
  key.roomSessionId === undefined ? null : String(key.roomSessionId),
  key.streamSeq === undefined ? null : String(key.streamSeq),
  key.time,
  key.createdAt ?? null,
  key.exact
]

/** The entry as JSON; `undefined` for one this codec cannot write back faithfully (an id past the bound). */
export const encode = (entry: StreamTracker.Entry): string | undefined => {
  const { status } = entry
  if (status.streamId.length > MAX_STREAM_ID) return undefined
  const checkedAt = status.checkedAt.getTime()
  let wire: Wire
  switch (status.state) {
    case "absent":
      wire = { s: "absent", i: status.streamId, c: checkedAt }
      break
    case "live":
      if (entry.key === undefined) return undefined
      wire = {
        s: "live",
        i: status.streamId,
        c: checkedAt,
        o: status.source,
        t: status.since.getTime(),
        k: wireKey(entry.key)
      }
      break
    case "closed":
      if (entry.key === undefined) return undefined
      wire = {
        s: "closed",
        i: status.streamId,
        c: checkedAt,
        o: status.source,
        t: status.closedAt.getTime(),
        r: status.reason,
        k: wireKey(entry.key)
      }
  }
  return JSON.stringify(wire)
}

/** The entry `text` holds, if it is one: its key's kind agrees with its state. */
export const decode = (text: unknown): StreamTracker.Entry | undefined => {
  const decoded = decodeWire(text)
  if (Either.isLeft(decoded)) return undefined
  const wire = decoded.right
  const checkedAt = new Date(wire.c)
  switch (wire.s) {
    case "absent":
      return { status: { state: "absent", streamId: wire.i, source: "describe", checkedAt }, key: undefined }
    case "live":
      return wire.k[0] !== "create" ? undefined : {
        status: { state: "live", streamId: wire.i, since: new Date(wire.t), source: wire.o, checkedAt },
        key: keyOf(wire.k)
      }
    case "closed":
      return wire.k[0] !== "close" ? undefined : {
        status: {
          state: "closed",
          streamId: wire.i,
          reason: wire.r,
          closedAt: new Date(wire.t),
          source: wire.o,
          checkedAt
        },
        key: keyOf(wire.k)
      }
  }
}
