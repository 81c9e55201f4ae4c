/**
 * ZEGOCLOUD's stream callbacks, sent by the emulator: a `stream_create` when a stream starts, a `stream_close` when
 * it ends, POSTed to the callback URL of the stream's app, signed with its callback secret, retried 2, 4, 8, 16 and
 * 32 s (times a scale) after a failed attempt, then lost, as ZEGOCLOUD does.
 *
 * Each callback is delivered in a fiber of its own (a hook's or a call's answer never waits for it), all of them in
 * one set that the emulator's scope interrupts when it closes. At most `maxInFlight` are under way; past that a
 * callback is dropped and recorded as such, so that a flood of publishes cannot pile up fibers.
 */
import { Callback } from "@effect-zego/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import type { AppConfig, NodeSpec } from "../EmulatorConfig.js"
import type { CallbackEvent, CallbackFault } from "../Fault.js"
import * as Bounded from "./bounded.js"
import type { CallbackFaults } from "./faults.js"
import * as RecordLog from "./recordLog.js"
import type * as Rooms from "./rooms.js"
import type * as Streams from "./streams.js"

/** The waits before each retry, in seconds (ZEGOCLOUD's schedule): five retries, six attempts in all. */
export const RETRY_SECONDS: ReadonlyArray<number> = [2, 4, 8, 16, 32]

/** A callback's fault, by the name the docs give it. */
export type FaultName = "drop" | "duplicate" | "delay" | "reorder" | "form-encode" | "bad-signature"

/** One attempt to deliver a callback: when (ms, by the emulator's `Clock`), and the HTTP status or the error. */
export interface CallbackAttempt {
  readonly at: number
  /** The receiver's HTTP status; `undefined` when no answer came (refused, reset, timed out: see `error`). */
  readonly status: number | undefined
  readonly error: string | undefined
}

/**
 * A callback the emulator sent (or meant to): `pending` while under way (or interrupted by the emulator's end),
 * `held` while a reorder fault holds it back, `delivered` on a 2xx, `lost` after the last retry failed, `dropped`
 * when never sent (a drop fault, or too many callbacks under way).
 */
export interface CallbackRecord {
  readonly appId: number
  readonly event: CallbackEvent
  readonly streamId: string
  readonly streamSeq: number
  /** `stream_close`'s `type`: 0 stopped, 3 kicked out (forbidden), 100 `DeleteStream`. */
  readonly closeType: number | undefined
  readonly nonce: string
  readonly fault: FaultName | undefined
  readonly status: "pending" | "held" | "delivered" | "lost" | "dropped"
  readonly attempts: ReadonlyArray<CallbackAttempt>
  /** Where it goes: the callback URL's origin and path (its query left out). */
  readonly target: string
  /** When the next attempt is due (ms, by the emulator's `Clock`) while a retry waits; otherwise `undefined`. */
  readonly nextAttemptAt: number | undefined
}

export interface Config {
  readonly apps: ReadonlyArray<AppConfig>
  /** Multiplies {@link RETRY_SECONDS}. */
  readonly retryScale: number
  /** The time limit of one attempt. */
  readonly timeout: Duration.Duration
  readonly maxInFlight: number
  readonly faults: CallbackFaults
  readonly rooms: Rooms.Rooms
  /** The pull nodes: a stream's `rtmp_url`s. */
  readonly pullNodes: ReadonlyArray<NodeSpec>
}

export interface Callbacks {
  /** A push dispatch of `streamId` by `appId`: a later publish of that stream belongs to that app. */
  readonly noteDispatch: (streamId: string, appId: number) => void
  /** A stream started or ended (the `Streams` listener). */
  readonly streamChanged: (change: Streams.Change) => void
  /** A `DeleteStream` of `appId` withdrew this announcement: `stream_close` type 100. */
  readonly deleted: (appId: number, withdrawn: Rooms.Announced, nowMillis: number) => void
  /** The records, oldest first (the last 100 000). */
  readonly records: () => ReadonlyArray<CallbackRecord>
  /** The last `count` records, oldest first. */
  readonly recent: (count: number) => ReadonlyArray<CallbackRecord>
}

/** A record as the callbacks fill it in (its status and attempts change while it is pending). */
type LoggedRecord = { -readonly [K in keyof CallbackRecord]: CallbackRecord[K] } & { attempts: Array<CallbackAttempt> }

/** How many streams' app, session and last close are remembered. */
const MAX_REMEMBERED = 100_000
/** The first room session id: above 2^53, as real ones are, so that a receiver must parse it losslessly. */
const ROOM_SESSION_BASE = 858_012_925_204_410_400n
/** ZEGOCLOUD's `recreate` window: the same stream pushed again within 90 s. */
const RECREATE_MILLIS = 90_000
const TEST_PREFIX = /^zegotest-(\d{1,10})-/

type Value = string | ReadonlyArray<string> | bigint

/** A JSON object written by hand: a bigint is written as a bare number with every digit (JSON.stringify cannot). */
const jsonBody = (fields: ReadonlyArray<readonly [string, Value]>): string =>
  `{${
    fields.map(([name, value]) =>
      `${JSON.stringify(name)}:${typeof value === "bigint" ? value.toString() : JSON.stringify(value)}`
    ).join(",")
  }}`

/** The same fields as a form, arrays as `name[]=…` (ZEGOCLOUD's form-encoded callbacks). */
const formBody = (fields: ReadonlyArray<readonly [string, Value]>): string => {
  const form = new URLSearchParams()
  for (const [name, value] of fields) {
    if (typeof value === "string" || typeof value === "bigint") form.append(name, value.toString())
    else for (const item of value) form.append(`${name}[]`, item)
  }
  return form.toString()
}

const FAULT_NAMES: Record<CallbackFault["_tag"], FaultName> = {
  Drop: "drop",
  Duplicate: "duplicate",
  Delay: "delay",
  Reorder: "reorder",
  FormEncode: "form-encode",
  BadSignature: "bad-signature"
}

/**
 * One POST over plain http (the URL is on loopback), no connection kept: the HTTP status, or the error in words.
 * Interrupting it destroys the request.
 */
const post = (url: URL, body: string, contentType: string): Effect.Effect<number, string> =>
  Effect.async((resume) => {
    let done = false
    const finish = (effect: Effect.Effect<number, string>) => {
      if (done) return
      done = true
      resume(effect)
    }
    const request = Http.request(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": contentType, "content-length": Buffer.byteLength(body) }
    }, (response) => {
      // Only the status matters: the receiver's body is not read.
      response.destroy()
      finish(Effect.succeed(response.statusCode ?? 0))
    })
    // `on`, not `once`: a destroyed request may emit a second error, which must not go unhandled.
    request.on("error", (error) => finish(Effect.fail(Bounded.printable(error.message, 200))))
    request.end(body)
    return Effect.sync(() => {
      done = true
      request.destroy()
    })
  })

/** A random decimal string: a nonce, a stream session id. */
const randomDigits = (): string => randomBytes(8).readBigUInt64BE().toString()

/** A bounded map: past `MAX_REMEMBERED` entries the oldest goes. */
const remember = <K, V>(map: Map<K, V>, key: K, value: V) => {
  map.delete(key)
  map.set(key, value)
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!)
}

export const make = (config: Config): Effect.Effect<Callbacks, never, Scope.Scope> =>
  Effect.gen(function*() {
    const run = yield* FiberSet.makeRuntime<never, void, never>()
    const runtime = yield* Effect.runtime<never>()
    const apps = new Map(config.apps.map((app) => [app.appId, app]))
    const firstWithUrl = config.apps.find((app) => app.callbackUrl !== undefined)
    /** stream id -> the app whose push dispatch it was. */
    const dispatchedBy = new Map<string, number>()
    /** live stream id -> its session id (`stream_sid`) and create time. */
    const sessions = new Map<string, { readonly sid: string; readonly createdAt: number }>()
    /** stream id -> when it last closed (for `recreate`). */
    const lastClosed = new Map<string, number>()
    /** room id -> its session id. */
    const roomSessions = new Map<string, bigint>()
    let nextRoomSession = 0n
    /** Strictly increasing over every callback, so per stream too. */
    let seq = 0
    let inFlight = 0
    /** Callbacks a reorder fault holds back: they start once the next callback has had its first attempt. */
    let held: Array<() => void> = []
    const records = RecordLog.make<LoggedRecord>()

    /** The stream's app: its test prefix's, else the calling app's, else the dispatching app's, else the first. */
    const appFor = (streamId: string, callerAppId?: number): AppConfig | undefined => {
      const prefixed = TEST_PREFIX.exec(streamId)
      const byPrefix = prefixed === null ? undefined : apps.get(Number(prefixed[1]))
      if (byPrefix !== undefined) return byPrefix
      const byCaller = callerAppId === undefined ? undefined : apps.get(callerAppId)
      if (byCaller !== undefined) return byCaller
      const dispatcher = dispatchedBy.get(streamId)
      return (dispatcher === undefined ? undefined : apps.get(dispatcher)) ?? firstWithUrl
    }

    const roomSession = (roomId: string): bigint => {
      let id = roomSessions.get(roomId)
      if (id === undefined) {
        id = ROOM_SESSION_BASE + nextRoomSession++
        remember(roomSessions, roomId, id)
      }
      return id
    }

    const releaseHeld = () => {
      const waiting = held
      held = []
      for (const start of waiting) start()
    }

    /** The delivery of one body: up to six attempts, then lost. */
    const deliver = (
      record: LoggedRecord,
      url: URL,
      body: string,
      contentType: string,
      afterFirstAttempt: () => void
    ) =>
      Effect.gen(function*() {
        record.status = "pending"
        const where = Bounded.printable(`${url.origin}${url.pathname}`, 300)
        for (let attempt = 0; attempt <= RETRY_SECONDS.length; attempt++) {
          if (attempt > 0) {
            const wait = RETRY_SECONDS[attempt - 1]! * 1000 * config.retryScale
            record.nextAttemptAt = (yield* Clock.currentTimeMillis) + wait
            yield* Effect.sleep(Duration.millis(wait))
            record.nextAttemptAt = undefined
          }
          const at = yield* Clock.currentTimeMillis
          const result = yield* post(url, body, contentType).pipe(
            Effect.timeoutFail({ duration: config.timeout, onTimeout: () => "timed out" }),
            Effect.either
          )
          const status = result._tag === "Right" ? result.right : undefined
          record.attempts.push({ at, status, error: result._tag === "Left" ? result.left : undefined })
          if (attempt === 0) afterFirstAttempt()
          const ok = status !== undefined && status >= 200 && status < 300
          yield* Effect.logInfo(
            `callback ${record.event} of stream ${Bounded.printable(record.streamId, 300)} to ${where}, attempt ${
              attempt + 1
            } -> ${result._tag === "Right" ? `HTTP ${result.right}` : result.left}`
          )
          if (ok) {
            record.status = "delivered"
            return
          }
        }
        record.status = "lost"
        yield* Effect.logWarning(
          `callback ${record.event} of stream ${Bounded.printable(record.streamId, 300)} lost after ${
            RETRY_SECONDS.length + 1
          } attempts`
        )
      })

    /** Sends one callback of `app`: its fault picked, its body signed, its delivery forked. */
    const send = (
      app: AppConfig,
      event: CallbackEvent,
      streamId: string,
      closeType: number | undefined,
      nowMillis: number,
      fields: ReadonlyArray<readonly [string, Value]>
    ) => {
      if (app.callbackUrl === undefined || app.callbackSecret === undefined) return
      const fault = Runtime.runSync(runtime)(
        config.faults.pick({ appId: app.appId, event, streamId })
      )
      const timestamp = String(Math.floor(nowMillis / 1000))
      const nonce = randomDigits()
      const streamSeq = ++seq
      const secret = fault?._tag === "BadSignature"
        ? Redacted.make(`not-${Redacted.value(app.callbackSecret)}`)
        : app.callbackSecret
      const all: ReadonlyArray<readonly [string, Value]> = [
        ["appid", String(app.appId)],
        ["event", event],
        ["timestamp", timestamp],
        ["nonce", nonce],
        ["signature", Callback.signature(secret, timestamp, nonce)],
        ["stream_id", streamId],
        ["stream_seq", String(streamSeq)],
        ...fields
      ]
      const callbackUrl = new URL(app.callbackUrl)
      const target = Bounded.printable(`${callbackUrl.origin}${callbackUrl.pathname}`, 300)
      const [body, contentType] = fault?._tag === "FormEncode"
        ? [formBody(all), "application/x-www-form-urlencoded"]
        : [jsonBody(all), "application/json"]
      const newRecord = (): LoggedRecord => {
        const record = {
          appId: app.appId,
          event,
          streamId: Bounded.keep(streamId),
          streamSeq,
          closeType,
          nonce,
          fault: fault === undefined ? undefined : FAULT_NAMES[fault._tag],
          status: "pending" as CallbackRecord["status"],
          attempts: [],
          target,
          nextAttemptAt: undefined
        }
        records.add(record)
        return record
      }
      const record = newRecord()
      if (fault?._tag === "Drop" || inFlight >= config.maxInFlight) {
        record.status = "dropped"
        // The next callback was sent (or not): what a reorder held back goes now.
        releaseHeld()
        return
      }
      inFlight += 1
      const waiting = held
      held = []
      const afterFirst = () => {
        for (const start of waiting) start()
      }
      const delivery = Effect.gen(function*() {
        if (fault?._tag === "Delay") yield* Effect.sleep(fault.duration)
        yield* deliver(record, callbackUrl, body, contentType, afterFirst)
        if (fault?._tag === "Duplicate") yield* deliver(newRecord(), callbackUrl, body, contentType, () => {})
      }).pipe(Effect.ensuring(Effect.sync(() => inFlight -= 1)))
      if (fault?._tag === "Reorder") {
        record.status = "held"
        held.push(() => void run(delivery))
        // The callbacks held before this one are not held twice: they go after this one's first attempt.
        held.push(...waiting)
      } else {
        run(delivery)
      }
    }

    const urls = (streamId: string) =>
      config.pullNodes.map((node) => `rtmp://${node.host}:${node.port}/${node.app}/${streamId}`)

    /** The fields of the stream's room (`""` and empty when it is announced in none). */
    const roomFields = (announced: Rooms.Announced | undefined): ReadonlyArray<readonly [string, Value]> => {
      const roomId = announced?.roomId ?? ""
      return [
        ["room_id", roomId],
        ["room_session_id", roomSession(roomId)],
        ["user_id", announced?.userId ?? ""],
        ["user_name", announced?.userName ?? ""],
        ["channel_id", "0"]
      ]
    }

    const created = (streamId: string, nowMillis: number) => {
      const app = appFor(streamId)
      const sid = randomDigits()
      remember(sessions, streamId, { sid, createdAt: nowMillis })
      if (app === undefined) return
      const announced = config.rooms.find(streamId)
      const closedAt = lastClosed.get(streamId)
      send(app, "stream_create", streamId, undefined, nowMillis, [
        ...roomFields(announced),
        ["stream_sid", sid],
        ["stream_alias", ""],
        ["stream_attr", "{\"cid\":0}"],
        ["create_time", String(Math.floor(nowMillis / 1000))],
        ["create_time_ms", String(nowMillis)],
        ["extra_info", announced?.extraInfo ?? ""],
        ["recreate", closedAt !== undefined && nowMillis - closedAt <= RECREATE_MILLIS ? "1" : "0"],
        ["publish_id", announced?.userId ?? ""],
        ["publish_name", announced?.userName ?? ""],
        ["title", announced?.streamTitle ?? ""],
        ["rtmp_url", urls(streamId)],
        ["hls_url", []],
        ["hdl_url", []],
        ["pic_url", []]
      ])
    }

    const closed = (
      app: AppConfig | undefined,
      streamId: string,
      type: number,
      createdAt: number,
      nowMillis: number,
      announced: Rooms.Announced | undefined
    ) => {
      const sid = sessions.get(streamId)?.sid ?? randomDigits()
      if (app === undefined) return
      send(app, "stream_close", streamId, type, nowMillis, [
        ...roomFields(announced),
        ["stream_sid", sid],
        ["stream_alias", ""],
        ["create_time_ms", String(createdAt)],
        ["destroy_timemillis", String(nowMillis)],
        ["third_define_data", ""],
        ["type", String(type)]
      ])
    }

    /** A snapshot of a record: a pending one changes later. */
    const copy = (record: LoggedRecord): CallbackRecord => ({ ...record, attempts: [...record.attempts] })

    return {
      noteDispatch: (streamId, appId) => remember(dispatchedBy, streamId, appId),
      streamChanged: (change) => {
        if (change._tag === "Created") return created(change.streamId, change.atMillis)
        const announced = config.rooms.find(change.streamId)
        closed(
          appFor(change.streamId),
          change.streamId,
          change.kicked ? 3 : 0,
          change.createdAt,
          change.atMillis,
          announced
        )
        sessions.delete(change.streamId)
        remember(lastClosed, change.streamId, change.atMillis)
      },
      deleted: (appId, withdrawn, nowMillis) =>
        closed(
          appFor(withdrawn.streamId, appId),
          withdrawn.streamId,
          100,
          sessions.get(withdrawn.streamId)?.createdAt ?? withdrawn.announcedAt,
          nowMillis,
          withdrawn
        ),
      records: () => records.all().map(copy),
      recent: (count) => records.recent(count).map(copy)
    }
  })
