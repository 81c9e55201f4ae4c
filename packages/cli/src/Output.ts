/**
 * What `zego-rtmp dispatch` prints: the nodes for a human (URL, OBS settings, a ready ffmpeg / ffplay command), or
 * one JSON document for a script; and what `stream …` and `room …` print: a line, or one JSON document.
 *
 * Both are safe on a terminal whatever the server sent. In the human text every control, bidi and line-separator
 * character of a server's string (request id, node URL) is written visibly (`\x1b`, `\u202e`, `\n`), so it
 * cannot forge a line or make a printed command look like another; such a string is shown, not reproduced. The JSON
 * document keeps every string exact: `JSON.stringify` escapes C0 controls, and {@link json} also escapes DEL, C1
 * controls, bidi controls and U+2028 / U+2029 as `\uXXXX`, which any JSON parser reads back as the same string.
 */
import { Untrusted } from "@effect-zego/core"
import type { RoomStreams, RtmpDispatch, StreamControl, StreamState } from "@effect-zego/core"
import * as MediaCommands from "./MediaCommands.js"

/** One node of an `RTMPDispatchV2` answer in the JSON output. */
export interface NodeJson {
  readonly url: string
  readonly host: string
  readonly port: number
  readonly app: string
  readonly streamName: string
  readonly obsServer: string
  readonly obsStreamKey: string
}

/** One address of an `RTMPDispatch` (V1) answer in the JSON output. */
export interface AddressJson {
  readonly address: string
  readonly host: string
  readonly port: number
}

/** The JSON document of `zego-rtmp dispatch --json`. */
export interface DispatchJson {
  readonly requestId: string
  readonly action: "RTMPDispatchV2" | "RTMPDispatch"
  readonly type: "push" | "pull"
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
  readonly nodes: ReadonlyArray<NodeJson | AddressJson>
}

/** The JSON document of an `RTMPDispatchV2` answer. */
export const dispatchedJson = (result: RtmpDispatch.Dispatched): DispatchJson => ({
  requestId: result.requestId,
  action: "RTMPDispatchV2",
  type: result.type,
  streamId: result.streamId,
  nodes: result.nodes.map((node) => ({
    url: node.url,
    host: node.host,
    port: node.port,
    app: node.app,
    streamName: node.streamName,
    obsServer: node.obsServer,
    obsStreamKey: node.obsStreamKey
  }))
})

/** The JSON document of an `RTMPDispatch` (V1) answer. */
export const addressesJson = (result: RtmpDispatch.DispatchedAddresses): DispatchJson => ({
  requestId: result.requestId,
  action: "RTMPDispatch",
  type: result.type,
  streamId: result.streamId,
  nodes: result.addresses.map((address) => ({ address: address.address, host: address.host, port: address.port }))
})

const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * A JSON document as text, two-space indented, with every character a terminal would obey escaped: C0 controls by
 * `JSON.stringify`, and DEL, C1, bidi controls and line separators as `\uXXXX` (they can only be inside strings).
 */
export const json = (document: DispatchJson | StreamStateJson | ControlledJson | RoomJson): string =>
  JSON.stringify(document, null, 2).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

/** Lines joined for a terminal: each written with its unsafe characters visible (see the module's comment). */
const text = (lines: ReadonlyArray<string>): string => lines.map(Untrusted.escapeText).join("\n")

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const header = (action: string, result: { type: string; streamId: string; requestId: string }, count: string) =>
  `${result.type === "push" ? "Publish (push)" : "Pull"}: ${count} for stream ${result.streamId} ` +
  `(${action}, RequestId ${result.requestId})`

/** The human text of an `RTMPDispatchV2` answer: each node's URL, then OBS settings and ffmpeg for push, players for pull. */
export const dispatchedText = (result: RtmpDispatch.Dispatched): string => {
  const lines = [header("RTMPDispatchV2", result, plural(result.nodes.length, "node")), ""]
  result.nodes.forEach((node, index) => {
    lines.push(`Node ${index + 1}: ${node.url}`)
    if (result.type === "push") {
      lines.push(
        `  OBS Server:      ${node.obsServer}`,
        `  OBS Stream key:  ${node.obsStreamKey}`,
        "  Publish a test pattern with ffmpeg:",
        `    ${MediaCommands.publishCommand(node.url)}`
      )
    } else {
      lines.push(
        "  Play with ffplay:",
        `    ${MediaCommands.playCommand(node.url)}`,
        "  Or record it with ffmpeg:",
        `    ${MediaCommands.recordCommand(node.url)}`
      )
    }
    lines.push("")
  })
  if (result.nodes.length > 1) lines.push("Use the first node; the others are fallbacks, in the server's order.")
  lines.push("Use a node within 2 hours; dispatch again for every new publish or pull.")
  return text(lines)
}

/** The human text of an `RTMPDispatch` (V1) answer: each `host:port` address. */
export const addressesText = (result: RtmpDispatch.DispatchedAddresses): string => {
  const lines = [header("RTMPDispatch", result, plural(result.addresses.length, "address")), ""]
  result.addresses.forEach((address, index) => lines.push(`Node ${index + 1}: ${address.address}`))
  lines.push(
    "",
    "RTMPDispatch answers host:port only; run without --v1 (RTMPDispatchV2) for full RTMP URLs, OBS settings and",
    "ffmpeg commands."
  )
  return text(lines)
}

/** What `stream state` learnt: the service's answer, or that the server knows no such stream (41004). */
export type StreamStateResult =
  | StreamState.State
  | { readonly state: "not-found"; readonly requestId: string; readonly streamId: string }

/** The JSON document of `zego-rtmp stream state --json`: times as ISO 8601. */
export interface StreamStateJson {
  readonly requestId: string
  readonly action: "DescribeRTCStreamState"
  readonly streamId: string
  readonly state: "active" | "closed" | "not-found"
  readonly createdAt?: string
  readonly closedAt?: string
}

/** The JSON document of a stream state. */
export const streamStateJson = (result: StreamStateResult): StreamStateJson => ({
  requestId: result.requestId,
  action: "DescribeRTCStreamState",
  streamId: result.streamId,
  state: result.state,
  ...(result.state === "not-found" ? {} : { createdAt: result.createdAt.toISOString() }),
  ...(result.state === "closed" ? { closedAt: result.closedAt.toISOString() } : {})
})

/** The human line of a stream state. */
export const streamStateText = (result: StreamStateResult): string => {
  const state = result.state === "active"
    ? `active since ${result.createdAt.toISOString()}`
    : result.state === "closed"
    ? `closed at ${result.closedAt.toISOString()} (active since ${result.createdAt.toISOString()})`
    : "not found (never published, or closed too long ago)"
  return text([`Stream ${result.streamId}: ${state} (DescribeRTCStreamState, RequestId ${result.requestId})`])
}

/** The JSON document of `zego-rtmp stream forbid|resume --json`. */
export interface ControlledJson {
  readonly requestId: string
  readonly action: "ForbidRTCStream" | "ResumeRTCStream"
  readonly streamId: string
  readonly state: "forbidden" | "resumed"
}

/** The JSON document of a forbid or resume. */
export const controlledJson = (action: "forbid" | "resume", result: StreamControl.Controlled): ControlledJson => ({
  requestId: result.requestId,
  action: action === "forbid" ? "ForbidRTCStream" : "ResumeRTCStream",
  streamId: result.streamId,
  state: action === "forbid" ? "forbidden" : "resumed"
})

/** The human line of a forbid or resume. */
export const controlledText = (action: "forbid" | "resume", result: StreamControl.Controlled): string =>
  text([
    action === "forbid"
      ? `Stream ${result.streamId}: forbidden; its publisher is cut off and a new publish refused until ` +
        `zego-rtmp stream resume (ForbidRTCStream, RequestId ${result.requestId})`
      : `Stream ${result.streamId}: resumed; it may be published again (ResumeRTCStream, RequestId ${result.requestId})`
  ])

/** The JSON document of `zego-rtmp room announce|withdraw --json`. */
export interface RoomJson {
  readonly requestId: string
  readonly action: "AddStream" | "DeleteStream"
  readonly roomId: string
  readonly streamId: string
}

/** The JSON document of an announce or withdraw. */
export const roomJson = (action: "announce" | "withdraw", result: RoomStreams.Announced): RoomJson => ({
  requestId: result.requestId,
  action: action === "announce" ? "AddStream" : "DeleteStream",
  roomId: result.roomId,
  streamId: result.streamId
})

/** The human line of an announce or withdraw. */
export const roomText = (action: "announce" | "withdraw", result: RoomStreams.Announced): string =>
  text([
    action === "announce"
      ? `Stream ${result.streamId}: announced in room ${result.roomId} (AddStream, RequestId ${result.requestId})`
      : `Stream ${result.streamId}: withdrawn from room ${result.roomId} (DeleteStream, RequestId ${result.requestId})`
  ])
