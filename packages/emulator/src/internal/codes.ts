/**
 * The return codes the emulator answers, with its message for each. The gateway codes (1000000xx) are those of
 * ZEGOCLOUD's global return-code table; the action codes those of the RTMP dispatch page, of the media service
 * (stream state, forbid) and of the room signalling (`AddStream`, `DeleteStream`, `DescribeSimpleStreamList`) tables.
 * An action's own codes take their messages from its row of the core's action table (its `meaning`), so that a new
 * row needs no message here.
 */
import { Actions } from "@effect-zego/core"

export const OK = 0
export const APP_ID_INVALID = 100000001
export const TIMESTAMP_MISSING = 100000002
export const TIMESTAMP_INVALID = 100000003
export const SIGNATURE_EXPIRED = 100000004
export const SIGNATURE_INVALID = 100000005
export const ACTION_MISSING = 100000006
export const ACTION_UNSUPPORTED = 100000007
export const NONCE_MISSING = 100000008
export const SIGNATURE_MISSING = 100000009
export const SECRET_NOT_FOUND = 100000010
export const SIGNATURE_VERSION_MISSING = 100000013
export const SIGNATURE_VERSION_UNSUPPORTED = 100000014
export const NO_PRODUCTION_ENVIRONMENT = 100000016
export const DISPATCH_FAILED = 1001
export const NO_PUSH_NODE = 1002
export const NO_PULL_NODE = 1003
export const INVALID_PARAMETER = 1006
export const RATE_LIMITED = 1010
export const INTERNAL_ERROR = 30003
export const INVALID_IS_TEST = 30004
export const INVALID_APP_ID = 30005
export const INVALID_STREAM_ID = 30009
export const INVALID_TYPE = 30010
export const INVALID_CLIENT_IP = 30011
export const TOO_FREQUENT = 30002
export const STREAM_NOT_FOUND = 41004
export const STREAM_CLOSED = 41006
export const ROOM_NOT_FOUND = 104
export const SET_STREAM_FAILED = 123
export const DELETE_STREAM_FAILED = 124
export const STREAM_INFO_NOT_FOUND = 138
export const SEVERAL_USERS = 1012
export const LIST_FAILED = 154
export const APP_QPS_LIMITED = 206
export const ROOM_QPS_LIMITED = 207
export const RELAY_AUTH_FAILED = 5003
export const INVALID_CDN_URL = 5004
export const RELAY_INVALID_REQUEST = 5005

/**
 * The messages of the codes no action owns: the gateway's, and those the actions share (the global table). An
 * action's own codes are not here: their messages are their rows' meanings in the core's action table.
 */
const sharedMessages: Record<number, string> = {
  [OK]: "ok",
  100000000: "invalid Host header",
  [APP_ID_INVALID]: "invalid AppId format",
  [TIMESTAMP_MISSING]: "Timestamp is empty",
  [TIMESTAMP_INVALID]: "invalid Timestamp format",
  [SIGNATURE_EXPIRED]: "signature expired",
  [SIGNATURE_INVALID]: "invalid signature",
  [ACTION_MISSING]: "Action is empty",
  [ACTION_UNSUPPORTED]: "unsupported Action",
  [NONCE_MISSING]: "SignatureNonce is empty",
  [SIGNATURE_MISSING]: "Signature is empty",
  [SECRET_NOT_FOUND]: "failed to get the ServerSecret: check the AppId",
  100000011: "failed to get the app configuration",
  [SIGNATURE_VERSION_MISSING]: "SignatureVersion is empty",
  [SIGNATURE_VERSION_UNSUPPORTED]: "unsupported SignatureVersion: only 2.0",
  100000015: "gateway internal error",
  [NO_PRODUCTION_ENVIRONMENT]: "the app has no production environment: check IsTest",
  100000017: "the service is not enabled for this app",
  [INVALID_PARAMETER]: "invalid parameter",
  [RATE_LIMITED]: "called too often",
  [TOO_FREQUENT]: "called too often",
  [INTERNAL_ERROR]: "internal error",
  [INVALID_IS_TEST]: "invalid isTest",
  [INVALID_APP_ID]: "invalid AppId",
  [INVALID_STREAM_ID]: "invalid StreamId",
  // An answer of `DescribeRTCStreamState` rather than an error: the table lists it without a meaning.
  [STREAM_CLOSED]: "the stream exists but is closed",
  3000: "invalid app",
  3001: "internal error",
  3002: "Timestamp error",
  3003: "the app has no token configured",
  5006: "internal error",
  40005: "authentication failed"
}

/** Each action's own codes, with their rows' meanings (a code means one thing wherever the table lists it). */
const actionMessages = new Map(
  Actions.names.flatMap((action) =>
    Object.entries(Actions.row(action).codes).map(([code, { meaning }]) => [Number(code), meaning] as const)
  )
)

/** The emulator's message for a code. */
export const message = (code: number): string => actionMessages.get(code) ?? sharedMessages[code] ?? `error ${code}`
