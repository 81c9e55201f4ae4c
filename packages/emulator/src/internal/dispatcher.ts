/**
 * What the emulated API answers to one call, from its query parameters and the time: the gateway checks, then
 * the action's, then a node from the pool. Synchronous, so that each call's checks and bookkeeping (nonces,
 * rate limit, round robin) happen as one step.
 */
import { Params, Signature, Untrusted } from "@effect-zego/core"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { AppConfig, DispatchRecord, NodeSpec } from "../Emulator.js"
import * as Codes from "./codes.js"
import * as NonceCache from "./nonceCache.js"
import * as RateLimiter from "./rateLimiter.js"

/** The timestamp skew the gateway tolerates, in seconds. */
export const MAX_SKEW_SECONDS = 600

/** A node handed out: the dispatch record but for its request id and time, which the server adds. */
export type Dispatch = Omit<DispatchRecord, "requestId" | "time">

/** The envelope's code, message and data, and the dispatch on a success. */
export interface Answer {
  readonly code: number
  readonly message: string
  readonly data?: ReadonlyArray<string>
  readonly dispatch?: Dispatch
}

export interface Config {
  readonly apps: ReadonlyArray<AppConfig>
  readonly nodes: { readonly push: ReadonlyArray<NodeSpec>; readonly pull: ReadonlyArray<NodeSpec> }
  readonly rateLimit: { readonly limit: number; readonly windowMillis: number } | false
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

const INT64_MAX = 9_223_372_036_854_775_807n

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

export const make = (config: Config): (params: URLSearchParams, nowMillis: number) => Answer => {
  const apps = new Map(config.apps.map((app) => [app.appId, app]))
  const nonces = NonceCache.make(2 * MAX_SKEW_SECONDS * 1000)
  const limiter = config.rateLimit === false
    ? RateLimiter.unlimited
    : RateLimiter.make(config.rateLimit.limit, config.rateLimit.windowMillis)
  const cursors = { push: 0, pull: 0 }

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
    if (!Schema.is(Params.Action)(actionText)) return fail(Codes.ACTION_UNSUPPORTED, actionText.slice(0, 64))
    const action = actionText
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

    // The action.
    if (!limiter.tryTake(app.appId, nowMillis)) return fail(Codes.RATE_LIMITED, "the limit per AppId is exceeded")
    if (isTest === "invalid") return fail(Codes.INVALID_IS_TEST, "IsTest must be true or false")
    if (isTest === true && app.isTest !== true) {
      return fail(Codes.INVALID_IS_TEST, "this app has no test environment: IsTest must be false or left out")
    }
    const streamId = decodeStreamId(params.get("StreamId") ?? "")
    if (Either.isLeft(streamId)) return fail(Codes.INVALID_STREAM_ID, firstIssue(streamId.left))
    const prefix = Params.testStreamPrefix(app.appId)
    if (app.isTest === true && (!streamId.right.startsWith(prefix) || streamId.right.length === prefix.length)) {
      return fail(Codes.INVALID_STREAM_ID, `in the test environment a StreamId starts with ${prefix}`)
    }
    const type = decodeType(params.get("Type") ?? "")
    if (Either.isLeft(type)) return fail(Codes.INVALID_TYPE, "Type must be push or pull")
    const clientIpText = present(params, "ClientIP")
    const clientIp = clientIpText === undefined ? undefined : decodeClientIp(clientIpText)
    if (clientIp !== undefined && Either.isLeft(clientIp)) {
      return fail(Codes.INVALID_CLIENT_IP, firstIssue(clientIp.left))
    }
    const sequence = params.get("Sequence") ?? ""
    if (!/^\d{1,19}$/.test(sequence) || BigInt(sequence) > INT64_MAX) {
      return fail(Codes.INVALID_PARAMETER, "Sequence must be a non-negative Int64")
    }

    // A node from the pool, round robin.
    const pool = config.nodes[type.right]
    if (pool.length === 0) return fail(type.right === "push" ? Codes.NO_PUSH_NODE : Codes.NO_PULL_NODE)
    const spec = pool[cursors[type.right] % pool.length]!
    cursors[type.right] = (cursors[type.right] + 1) % pool.length
    const node = action === "RTMPDispatchV2"
      ? `rtmp://${spec.host}:${spec.port}/${spec.app}/${streamId.right}`
      : `${spec.host}:${spec.port}`
    return {
      code: Codes.OK,
      message: Codes.message(Codes.OK),
      data: [node],
      dispatch: {
        appId: app.appId,
        isTest: app.isTest === true,
        action,
        streamId: streamId.right,
        type: type.right,
        clientIp: clientIp === undefined ? undefined : clientIp.right,
        node,
        host: spec.host,
        port: spec.port,
        app: spec.app
      }
    }
  }
}
