/**
 * What the emulated API answers to one call, from its query parameters and the time: the gateway checks, then
 * the action's (declared as data in {@link actions}: its rate limit, its parameters, its answer). Synchronous, so
 * that each call's checks and bookkeeping (nonces, rate limits, sequences, round robin, streams, rooms) happen as
 * one step.
 */
import { Actions, Params, Signature, Untrusted } from "@effect-zego/core"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { AppConfig, NodeSpec } from "../EmulatorConfig.js"
import * as Bounded from "./bounded.js"
import * as Codes from "./codes.js"
import * as NonceCache from "./nonceCache.js"
import * as RateLimiter from "./rateLimiter.js"
import * as Relays from "./relays.js"
import type * as Rooms from "./rooms.js"
import * as Sequences from "./sequences.js"
import type * as Streams from "./streams.js"

/** Every action the emulator answers (the core's action table); any other is 100000007. */
export const ACTIONS = Actions.names
export type ActionName = Actions.Name
/** The actions beside the dispatch: each has a limit of its own per environment (its row's). */
export type StreamAction = Exclude<ActionName, "RTMPDispatchV2" | "RTMPDispatch">

/** The timestamp skew the gateway tolerates, in seconds. */
export const MAX_SKEW_SECONDS = 600

/** A node handed out: the dispatch record but for its request id and time, which the server adds. */
export interface Dispatch {
  readonly appId: number
  readonly isTest: boolean
  readonly action: Params.Action
  /** The stream id as sent (with the `zegotest-<AppId>-` prefix for a test app). */
  readonly streamId: string
  readonly type: Params.DispatchType
  readonly clientIp: string | undefined
  /** What `Data` carried: the RTMP URL (`RTMPDispatchV2`) or `host:port` (`RTMPDispatch`). */
  readonly node: string
  readonly host: string
  readonly port: number
  readonly app: string
}

/** An `AddStream` or `DeleteStream` that took effect. */
export type Announcement =
  | { readonly _tag: "Added"; readonly announced: Rooms.Announced }
  | {
    readonly _tag: "Deleted"
    readonly roomId: string
    readonly userId: string
    readonly userName: string | undefined
    readonly streamId: string
    /** The announcement withdrawn (its title, extra info and time), for the `stream_close` callback. */
    readonly withdrawn: Rooms.Announced
  }

/** The envelope's code, message and data, and what a success did (a dispatch, an announcement). */
export interface Answer {
  readonly code: number
  readonly message: string
  readonly data?: unknown
  readonly dispatch?: Dispatch
  readonly announcement?: Announcement
}

/** The documented rate limit of a stream action per AppId per second, in production and in the test environment. */
export const STREAM_ACTION_LIMITS = Object.fromEntries(
  ACTIONS.filter((action) => Actions.row(action).budget !== "dispatch").map((
    action
  ) => [action, Actions.row(action).limit])
) as Record<StreamAction, { readonly production: number; readonly test: number }>

export interface Config {
  readonly apps: ReadonlyArray<AppConfig>
  readonly nodes: { readonly push: ReadonlyArray<NodeSpec>; readonly pull: ReadonlyArray<NodeSpec> }
  /** The dispatch actions' limit (shared by both); `false`: no limit on any action. */
  readonly rateLimit: { readonly limit: number; readonly windowMillis: number } | false
  readonly streams: Streams.Streams
  readonly rooms: Rooms.Rooms
  readonly relays: Relays.Relays
}

const fail = (code: number, detail?: string): Answer => ({
  code,
  message: detail === undefined ? Codes.message(code) : `${Codes.message(code)}: ${detail}`
})

/** The first problem, without quoting more than a short excerpt of the value a client sent. */
const firstIssue = (error: ParseResult.ParseError): string => Untrusted.describeParseError(error).message

const decodeAppId = Schema.decodeUnknownEither(Params.AppId)
const decodeStreamId = Schema.decodeUnknownEither(Params.StreamId)
const decodeType = Schema.decodeUnknownEither(Params.DispatchType)
const decodeClientIp = Schema.decodeUnknownEither(Params.ClientIp)
const decodeCdnUrl = Schema.decodeUnknownEither(Params.CdnUrl)

/** `IsTest` as sent: absent, a boolean (case-insensitive), or something else. */
const parseIsTest = (raw: string | null): boolean | undefined | "invalid" => {
  if (raw === null) return undefined
  const lower = raw.toLowerCase()
  return lower === "true" ? true : lower === "false" ? false : "invalid"
}

const present = (params: URLSearchParams, name: string): string | undefined => {
  const value = params.get(name)
  return value === null || value === "" ? undefined : value
}

const sequenceOf = (params: URLSearchParams): bigint | undefined => {
  const text = params.get("Sequence") ?? ""
  if (!/^\d{1,19}$/.test(text)) return undefined
  const sequence = BigInt(text)
  return sequence > Params.INT64_MAX ? undefined : sequence
}

/**
 * An optional text parameter of at most `maxBytes` UTF-8 bytes (required: also present and not empty), kept (cut
 * and copied, see `Bounded.keep`); or the 1006 answer.
 */
const textParam = (
  params: URLSearchParams,
  name: string,
  maxBytes: number,
  required: boolean
): { readonly value: string | undefined } | Answer => {
  const value = params.get(name)
  if (value === null || value === "") {
    return required ? fail(Codes.INVALID_PARAMETER, `${name} is missing`) : { value: undefined }
  }
  if (Buffer.byteLength(value, "utf8") > maxBytes) {
    return fail(Codes.INVALID_PARAMETER, `${name} is over ${maxBytes} bytes`)
  }
  return { value: Bounded.keep(value, maxBytes) }
}

const isAnswer = (value: { readonly value: string | undefined } | Answer): value is Answer => "code" in value

/** Unix seconds as the decimal string `DescribeRTCStreamState` answers. */
const seconds = (millis: number): string => String(Math.floor(millis / 1000))

/** A call that passed the gateway, its action's rate limits and the checks every action shares (IsTest, StreamId). */
interface Call {
  readonly params: URLSearchParams
  readonly app: AppConfig
  readonly action: ActionName
  /** `""` for an action without a `StreamId` (its row names none). */
  readonly streamId: string
  readonly nowMillis: number
}

/** An action as data: its rate limit, the code a call over it answers, and its own checks and answer. */
interface ActionSpec {
  /** `dispatch`: the dispatch actions' shared limit (`Config.rateLimit`); else the per-second limit per environment. */
  readonly limit: "dispatch" | { readonly production: number; readonly test: number }
  readonly rateLimitedCode: number
  /** The code a call over its row's per-key budget answers (`DescribeSimpleStreamList`: 207, per room). */
  readonly perKeyLimitedCode?: number
  readonly answer: (call: Call) => Answer
}

export const make = (config: Config): (params: URLSearchParams, nowMillis: number) => Answer => {
  const apps = new Map(config.apps.map((app) => [app.appId, app]))
  const nonces = NonceCache.make(2 * MAX_SKEW_SECONDS * 1000)
  const dispatchLimiter = config.rateLimit === false
    ? RateLimiter.unlimited
    : RateLimiter.make(config.rateLimit.limit, config.rateLimit.windowMillis)
  const cursors = { push: 0, pull: 0 }
  const sequences = Sequences.make()
  const { relays, rooms, streams } = config

  /** The Sequence rule of the stream actions (see the README): a non-negative Int64, increasing per StreamId. */
  const withSequence = (answer: (call: Call) => Answer) => (call: Call): Answer => {
    const sequence = sequenceOf(call.params)
    if (sequence === undefined) return fail(Codes.INVALID_PARAMETER, "Sequence must be a non-negative Int64")
    if (!sequences.accept(`${call.app.appId}:${call.streamId}`, sequence, call.nowMillis)) {
      return fail(
        Codes.INVALID_PARAMETER,
        "Sequence must be strictly increasing per StreamId within any 10 seconds"
      )
    }
    return answer(call)
  }

  const ok = (extra: Omit<Answer, "code" | "message"> = {}): Answer => ({
    code: Codes.OK,
    message: Codes.message(Codes.OK),
    ...extra
  })

  const dispatch = ({ action, app, params, streamId }: Call): Answer => {
    const type = decodeType(params.get("Type") ?? "")
    if (Either.isLeft(type)) return fail(Codes.INVALID_TYPE, "Type must be push or pull")
    const clientIpText = present(params, "ClientIP")
    const clientIp = clientIpText === undefined ? undefined : decodeClientIp(clientIpText)
    if (clientIp !== undefined && Either.isLeft(clientIp)) {
      return fail(Codes.INVALID_CLIENT_IP, firstIssue(clientIp.left))
    }
    if (sequenceOf(params) === undefined) return fail(Codes.INVALID_PARAMETER, "Sequence must be a non-negative Int64")

    // A node from the pool, round robin.
    const pool = config.nodes[type.right]
    if (pool.length === 0) return fail(type.right === "push" ? Codes.NO_PUSH_NODE : Codes.NO_PULL_NODE)
    const spec = pool[cursors[type.right] % pool.length]!
    cursors[type.right] = (cursors[type.right] + 1) % pool.length
    const node = action === "RTMPDispatchV2"
      ? `rtmp://${spec.host}:${spec.port}/${spec.app}/${streamId}`
      : `${spec.host}:${spec.port}`
    return ok({
      data: [node],
      dispatch: {
        appId: app.appId,
        isTest: app.isTest === true,
        action: action === "RTMPDispatchV2" ? "RTMPDispatchV2" : "RTMPDispatch",
        streamId,
        type: type.right,
        clientIp: clientIp === undefined ? undefined : clientIp.right,
        node,
        host: spec.host,
        port: spec.port,
        app: spec.app
      }
    })
  }

  const describe = ({ nowMillis, streamId }: Call): Answer => {
    const state = streams.state(streamId, nowMillis)
    if (state === undefined) {
      return fail(Codes.STREAM_NOT_FOUND, `stream ${streamId} was never published, or closed too long ago`)
    }
    const data = {
      create_time: seconds(state.createdAt),
      close_time: state._tag === "Active" ? "0" : seconds(state.closedAt)
    }
    return state._tag === "Active"
      ? ok({ data })
      : { ...fail(Codes.STREAM_CLOSED), data }
  }

  const announcementParams = (params: URLSearchParams) => {
    const roomId = textParam(params, "RoomId", 127, true)
    if (isAnswer(roomId)) return roomId
    const userId = textParam(params, "UserId", 255, true)
    if (isAnswer(userId)) return userId
    const userName = textParam(params, "UserName", 255, false)
    if (isAnswer(userName)) return userName
    return { roomId: roomId.value!, userId: userId.value!, userName: userName.value }
  }

  const addStream = ({ nowMillis, params, streamId }: Call): Answer => {
    const who = announcementParams(params)
    if ("code" in who) return who
    const streamTitle = textParam(params, "StreamTitle", 127, false)
    if (isAnswer(streamTitle)) return streamTitle
    const extraInfo = textParam(params, "ExtraInfo", 1024, false)
    if (isAnswer(extraInfo)) return extraInfo
    const flag = present(params, "CensorFlag")
    if (flag !== undefined && flag !== "0" && flag !== "1") {
      return fail(Codes.INVALID_PARAMETER, "CensorFlag must be 0 or 1")
    }
    const announced: Rooms.Announced = {
      ...who,
      streamId: Bounded.keep(streamId),
      streamTitle: streamTitle.value,
      extraInfo: extraInfo.value,
      censorFlag: flag === undefined ? undefined : flag === "1" ? 1 : 0,
      announcedAt: nowMillis
    }
    const outcome = rooms.add(announced)
    return outcome._tag === "Refused"
      ? fail(outcome.code, outcome.reason)
      : ok({ announcement: { _tag: "Added", announced } })
  }

  const deleteStream = ({ params, streamId }: Call): Answer => {
    const who = announcementParams(params)
    if ("code" in who) return who
    const withdrawn = rooms.find(streamId)
    const outcome = rooms.remove(who.roomId, who.userId, streamId)
    if (outcome._tag === "Refused") return fail(outcome.code, outcome.reason)
    // A removal succeeds only for an announced stream, so `withdrawn` is defined.
    return ok({ announcement: { _tag: "Deleted", ...who, streamId: Bounded.keep(streamId), withdrawn: withdrawn! } })
  }

  /** `DescribeSimpleStreamList`: the streams announced in the room (an empty list for a room it does not know). */
  const list = ({ params }: Call): Answer => {
    const roomId = textParam(params, "RoomId", 127, true)
    if (isAnswer(roomId)) return roomId
    const StreamList = rooms.list(roomId.value!).map(({ announced, streamNumberId }) => ({
      StreamId: announced.streamId,
      UserId: announced.userId,
      UserName: announced.userName ?? "",
      CreateTime: announced.announcedAt,
      StreamNumberId: streamNumberId
    }))
    return ok({ data: { StreamList } })
  }

  /** The relay target of a rule: a URL as the core checks it, on loopback; else 5004 (the server's invalid CDN address). */
  const cdnUrlOf = (params: URLSearchParams): { readonly value: string } | Answer => {
    const text = present(params, "CDNUrl")
    if (text === undefined) return fail(Codes.RELAY_INVALID_REQUEST, "CDNUrl is missing")
    const decoded = decodeCdnUrl(text)
    if (Either.isLeft(decoded)) return fail(Codes.INVALID_CDN_URL, firstIssue(decoded.left))
    const refused = Relays.refuseUrl(text)
    return refused === undefined ? { value: Bounded.keep(text, 2048) } : fail(Codes.INVALID_CDN_URL, refused)
  }

  const createRule = ({ app, nowMillis, params, streamId }: Call): Answer => {
    const cdnUrl = cdnUrlOf(params)
    if ("code" in cdnUrl) return cdnUrl
    return relays.add(app.appId, Bounded.keep(streamId), cdnUrl.value, nowMillis)
      ? ok()
      : fail(Codes.RELAY_INVALID_REQUEST, "the emulator already keeps its most relay rules")
  }

  const deleteRule = ({ nowMillis, params, streamId }: Call): Answer => {
    const cdnUrl = cdnUrlOf(params)
    if ("code" in cdnUrl) return cdnUrl
    // No such rule: a success, as deleting what is gone is done (ZEGOCLOUD documents no code for it).
    relays.remove(streamId, cdnUrl.value, nowMillis)
    return ok()
  }

  /** A stream action: its limit and its Sequence rule from its row of the action table, and its answer. */
  const stream = (action: StreamAction, answer: (call: Call) => Answer): ActionSpec => ({
    limit: Actions.row(action).limit,
    rateLimitedCode: Codes.TOO_FREQUENT,
    answer: Actions.row(action).sequence ? withSequence(answer) : answer
  })

  /** Every action's handler: a new row of the action table costs one here (the type requires it). */
  const actions: Record<ActionName, ActionSpec> = {
    RTMPDispatchV2: { limit: "dispatch", rateLimitedCode: Codes.RATE_LIMITED, answer: dispatch },
    RTMPDispatch: { limit: "dispatch", rateLimitedCode: Codes.RATE_LIMITED, answer: dispatch },
    DescribeRTCStreamState: stream("DescribeRTCStreamState", describe),
    ForbidRTCStream: stream(
      "ForbidRTCStream",
      ({ nowMillis, streamId }) => (streams.forbid(Bounded.keep(streamId), nowMillis), ok())
    ),
    ResumeRTCStream: stream("ResumeRTCStream", ({ streamId }) => (streams.resume(streamId), ok())),
    AddStream: stream("AddStream", addStream),
    DeleteStream: stream("DeleteStream", deleteStream),
    // The room signalling table's codes: 206 the app's rate, 207 one room's.
    DescribeSimpleStreamList: {
      ...stream("DescribeSimpleStreamList", list),
      rateLimitedCode: Codes.APP_QPS_LIMITED,
      perKeyLimitedCode: Codes.ROOM_QPS_LIMITED
    },
    CreatCDNTransferRule: stream("CreatCDNTransferRule", createRule),
    DeleteCDNTransferRule: stream("DeleteCDNTransferRule", deleteRule),
    ClearCDNTransferRule: stream(
      "ClearCDNTransferRule",
      ({ nowMillis, streamId }) => (relays.clear(streamId, nowMillis), ok())
    )
  }

  /** One limiter per budget and environment (the dispatch actions share theirs), each counting per AppId. */
  const limiters = new Map<string, RateLimiter.RateLimiter>()
  const limiterFor = (action: ActionName, spec: ActionSpec, app: AppConfig): RateLimiter.RateLimiter => {
    if (spec.limit === "dispatch") return dispatchLimiter
    if (config.rateLimit === false) return RateLimiter.unlimited
    const key = `${Actions.row(action).budget}:${app.isTest === true ? "test" : "production"}`
    let limiter = limiters.get(key)
    if (limiter === undefined) {
      limiter = RateLimiter.make(app.isTest === true ? spec.limit.test : spec.limit.production, 1000)
      limiters.set(key, limiter)
    }
    return limiter
  }

  /** One limiter per action with a per-key budget (its row's `perKey`), keyed by AppId and the parameter's value. */
  const keyedLimiters = new Map<ActionName, ReturnType<typeof RateLimiter.makeKeyed>>()
  const keyedLimiterFor = (action: ActionName, perKey: Actions.PerKey) => {
    let limiter = keyedLimiters.get(action)
    if (limiter === undefined) {
      limiter = RateLimiter.makeKeyed(perKey.limit, perKey.windowSeconds * 1000)
      keyedLimiters.set(action, limiter)
    }
    return limiter
  }

  return (params, nowMillis) => {
    // The gateway: public parameters, the app, the time, the signature.
    const appIdText = present(params, "AppId")
    if (appIdText === undefined) return fail(Codes.APP_ID_INVALID, "AppId is missing")
    const appId = /^\d{1,10}$/.test(appIdText) ? decodeAppId(Number(appIdText)) : undefined
    if (appId === undefined || Either.isLeft(appId)) {
      return fail(Codes.APP_ID_INVALID, "AppId must be an unsigned 32-bit integer")
    }
    const timestampText = present(params, "Timestamp")
    if (timestampText === undefined) return fail(Codes.TIMESTAMP_MISSING)
    if (!/^\d{1,15}$/.test(timestampText)) return fail(Codes.TIMESTAMP_INVALID, "expected Unix time in seconds")
    const nonce = present(params, "SignatureNonce")
    if (nonce === undefined) return fail(Codes.NONCE_MISSING)
    const signature = present(params, "Signature")
    if (signature === undefined) return fail(Codes.SIGNATURE_MISSING)
    const version = present(params, "SignatureVersion")
    if (version === undefined) return fail(Codes.SIGNATURE_VERSION_MISSING)
    if (version !== Signature.SIGNATURE_VERSION) return fail(Codes.SIGNATURE_VERSION_UNSUPPORTED)
    const actionText = present(params, "Action")
    if (actionText === undefined) return fail(Codes.ACTION_MISSING)
    if (!Object.hasOwn(actions, actionText)) return fail(Codes.ACTION_UNSUPPORTED, actionText.slice(0, 64))
    const action = actionText as ActionName
    const spec = actions[action]
    const app = apps.get(appId.right)
    if (app === undefined) return fail(Codes.SECRET_NOT_FOUND)
    const timestamp = Number(timestampText)
    if (Math.abs(timestamp - nowMillis / 1000) > MAX_SKEW_SECONDS) {
      return fail(Codes.SIGNATURE_EXPIRED, "Timestamp is more than 10 minutes from the server's time")
    }
    const expected = Signature.sign({ appId: app.appId, nonce, serverSecret: app.serverSecret, timestamp })
    if (signature !== expected) return fail(Codes.SIGNATURE_INVALID)
    // A replay answers "invalid signature" (see the README): a signature is good for one call only.
    if (nonces.seen(`${app.appId}:${nonce}`, nowMillis)) {
      return fail(Codes.SIGNATURE_INVALID, "SignatureNonce already used (replayed request)")
    }
    const isTest = parseIsTest(params.get("IsTest"))
    if (app.isTest === true && (isTest === undefined || isTest === false)) {
      return fail(Codes.NO_PRODUCTION_ENVIRONMENT, "this is a test-environment app: send IsTest=true")
    }

    // The action: its rate limit, the checks every action shares, then its own.
    if (!limiterFor(action, spec, app).tryTake(app.appId, nowMillis)) {
      return fail(spec.rateLimitedCode, `the limit of ${action} per AppId is exceeded`)
    }
    if (isTest === "invalid") return fail(Codes.INVALID_IS_TEST, "IsTest must be true or false")
    if (isTest === true && app.isTest !== true) {
      return fail(Codes.INVALID_IS_TEST, "this app has no test environment: IsTest must be false or left out")
    }
    const row = Actions.row(action)
    const perKey = row.perKey
    if (perKey !== undefined && config.rateLimit !== false) {
      const value = present(params, perKey.parameter)
      if (value === undefined) return fail(Codes.INVALID_PARAMETER, `${perKey.parameter} is missing`)
      if (!keyedLimiterFor(action, perKey).tryTake(`${app.appId}:${value}`, nowMillis)) {
        return fail(
          spec.perKeyLimitedCode ?? spec.rateLimitedCode,
          `the limit of ${action} per ${perKey.parameter} (${perKey.limit} per ${perKey.windowSeconds} s) is exceeded`
        )
      }
    }
    // An action whose row names no StreamId takes none (one sent is ignored).
    if (!Object.hasOwn(row.parameters, "StreamId")) return spec.answer({ params, app, action, streamId: "", nowMillis })
    const streamId = decodeStreamId(params.get("StreamId") ?? "")
    if (Either.isLeft(streamId)) return fail(Codes.INVALID_STREAM_ID, firstIssue(streamId.left))
    const prefix = Params.testStreamPrefix(app.appId)
    if (app.isTest === true && (!streamId.right.startsWith(prefix) || streamId.right.length === prefix.length)) {
      return fail(Codes.INVALID_STREAM_ID, `in the test environment a StreamId starts with ${prefix}`)
    }
    return spec.answer({ params, app, action, streamId: streamId.right, nowMillis })
  }
}
