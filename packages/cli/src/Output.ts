/**
 * What `zego-rtmp dispatch` prints: the nodes for a human (URL, OBS settings, a ready ffmpeg / ffplay command), or
 * one JSON document for a script; and what `stream …`, `room …` and `relay …` print: a line (a list for
 * `room streams`), or one JSON document.
 *
 * Both are safe on a terminal whatever the server sent. In the human text every control, bidi and line-separator
 * character of a server's string (request id, node URL) is written visibly (`\x1b`, `\u202e`, `\n`), so it
 * cannot forge a line or make a printed command look like another; such a string is shown, not reproduced. The JSON
 * document keeps every string exact: `JSON.stringify` escapes C0 controls, and {@link json} also escapes DEL, C1
 * controls, bidi controls and U+2028 / U+2029 as `\uXXXX`, which any JSON parser reads back as the same string.
 *
 * @since 0.1.0
 */
import { Params, Untrusted } from "@effect-zego/core"
import type { RoomStreams, RtmpDispatch, StreamControl, StreamRelay, StreamState } from "@effect-zego/core"
import * as Invocation from "./internal/invocation.js"
import * as MediaCommands from "./MediaCommands.js"

/**
 * One node of an `RTMPDispatchV2` answer in the JSON output.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeJson {
  readonly url: string
  readonly host: string
  readonly port: number
  readonly app: string
  readonly streamName: string
  readonly obsServer: string
  readonly obsStreamKey: string
}

/**
 * One address of an `RTMPDispatch` (V1) answer in the JSON output.
 *
 * @since 0.1.0
 * @category models
 */
export interface AddressJson {
  readonly address: string
  readonly host: string
  readonly port: number
}

/**
 * The JSON document of `zego-rtmp dispatch --json`.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 * import { execFileSync } from "node:child_process"
 *
 * const readNodes = (): Output.DispatchJson =>
 *   JSON.parse(
 *     execFileSync("zego-rtmp", ["dispatch", "--type", "push", "--stream-id", "demo", "--json"], { encoding: "utf8" })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DispatchJson {
  readonly requestId: string
  readonly action: "RTMPDispatchV2" | "RTMPDispatch"
  readonly type: "push" | "pull"
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
  readonly nodes: ReadonlyArray<NodeJson | AddressJson>
}

/**
 * The JSON document of an `RTMPDispatchV2` answer.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 * import { RtmpDispatch, RtmpNode } from "@effect-zego/core"
 *
 * const node = RtmpNode.parseRtmpUrl("rtmp://127.0.0.1:1935/live/demo")!
 * const result: RtmpDispatch.Dispatched = { requestId: "1", streamId: "demo", type: "push", nodes: [node] }
 * const document = Output.dispatchedJson(result)
 * assert.strictEqual(document.action, "RTMPDispatchV2")
 * assert.deepStrictEqual(document.nodes[0], {
 *   url: "rtmp://127.0.0.1:1935/live/demo",
 *   host: "127.0.0.1",
 *   port: 1935,
 *   app: "live",
 *   streamName: "demo",
 *   obsServer: "rtmp://127.0.0.1:1935/live/",
 *   obsStreamKey: "demo"
 * })
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
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

/**
 * The JSON document of an `RTMPDispatch` (V1) answer.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 * import { RtmpDispatch, RtmpNode } from "@effect-zego/core"
 *
 * const address = RtmpNode.parseNodeAddress("127.0.0.1:1935")!
 * const result: RtmpDispatch.DispatchedAddresses = {
 *   requestId: "1",
 *   streamId: "demo",
 *   type: "pull",
 *   addresses: [address]
 * }
 * assert.deepStrictEqual(Output.addressesJson(result).nodes, [
 *   { address: "127.0.0.1:1935", host: "127.0.0.1", port: 1935 }
 * ])
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
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
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * const text = Output.json({ requestId: "1", action: "ForbidRTCStream", streamId: "a\u202eb", state: "forbidden" })
 * assert.ok(text.includes("a\\u202eb"))
 * assert.strictEqual(JSON.parse(text).streamId, "a\u202eb")
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
export const json = (
  document: DispatchJson | StreamStateJson | ControlledJson | RoomJson | RoomStreamsJson | RelayJson
): string =>
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

/**
 * The human text of an `RTMPDispatchV2` answer: each node's URL, then OBS settings and ffmpeg for push, players for pull.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 * import { RtmpDispatch, RtmpNode } from "@effect-zego/core"
 *
 * const node = RtmpNode.parseRtmpUrl("rtmp://127.0.0.1:1935/live/demo")!
 * const result: RtmpDispatch.Dispatched = { requestId: "1", streamId: "demo", type: "push", nodes: [node] }
 * const text = Output.dispatchedText(result)
 * assert.ok(text.startsWith("Publish (push): 1 node for stream demo (RTMPDispatchV2, RequestId 1)"))
 * assert.ok(text.includes("OBS Stream key:  demo"))
 * ```
 *
 * @since 0.1.0
 * @category text
 */
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

/**
 * The human text of an `RTMPDispatch` (V1) answer: each `host:port` address.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 * import { RtmpDispatch, RtmpNode } from "@effect-zego/core"
 *
 * const address = RtmpNode.parseNodeAddress("127.0.0.1:1935")!
 * const result: RtmpDispatch.DispatchedAddresses = {
 *   requestId: "1",
 *   streamId: "demo",
 *   type: "pull",
 *   addresses: [address]
 * }
 * assert.ok(Output.addressesText(result).includes("Node 1: 127.0.0.1:1935"))
 * ```
 *
 * @since 0.1.0
 * @category text
 */
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

/**
 * What `stream state` learnt: the service's answer, or that the server knows no such stream (41004).
 *
 * @since 0.1.0
 * @category models
 */
export type StreamStateResult =
  | StreamState.State
  | { readonly state: "not-found"; readonly requestId: string; readonly streamId: string }

/**
 * The JSON document of `zego-rtmp stream state --json`: times as ISO 8601.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamStateJson {
  readonly requestId: string
  readonly action: "DescribeRTCStreamState"
  readonly streamId: string
  readonly state: "active" | "closed" | "not-found"
  readonly createdAt?: string
  readonly closedAt?: string
}

/**
 * The JSON document of a stream state.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * const document = Output.streamStateJson({
 *   state: "active",
 *   requestId: "1",
 *   streamId: "demo",
 *   createdAt: new Date("2026-01-01T00:00:00Z")
 * })
 * assert.deepStrictEqual(document, {
 *   requestId: "1",
 *   action: "DescribeRTCStreamState",
 *   streamId: "demo",
 *   state: "active",
 *   createdAt: "2026-01-01T00:00:00.000Z"
 * })
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
export const streamStateJson = (result: StreamStateResult): StreamStateJson => ({
  requestId: result.requestId,
  action: "DescribeRTCStreamState",
  streamId: result.streamId,
  state: result.state,
  ...(result.state === "not-found" ? {} : { createdAt: result.createdAt.toISOString() }),
  ...(result.state === "closed" ? { closedAt: result.closedAt.toISOString() } : {})
})

/**
 * The human line of a stream state.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   Output.streamStateText({ state: "not-found", requestId: "1", streamId: "demo" }),
 *   "Stream demo: not found (never published, or closed too long ago) (DescribeRTCStreamState, RequestId 1)"
 * )
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const streamStateText = (result: StreamStateResult): string => {
  const state = result.state === "active"
    ? `active since ${result.createdAt.toISOString()}`
    : result.state === "closed"
    ? `closed at ${result.closedAt.toISOString()} (active since ${result.createdAt.toISOString()})`
    : "not found (never published, or closed too long ago)"
  return text([`Stream ${result.streamId}: ${state} (DescribeRTCStreamState, RequestId ${result.requestId})`])
}

/**
 * The JSON document of `zego-rtmp stream forbid|resume --json`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ControlledJson {
  readonly requestId: string
  readonly action: "ForbidRTCStream" | "ResumeRTCStream"
  readonly streamId: string
  readonly state: "forbidden" | "resumed"
}

/**
 * The JSON document of a forbid or resume.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * assert.deepStrictEqual(Output.controlledJson("forbid", { requestId: "1", streamId: "demo" }), {
 *   requestId: "1",
 *   action: "ForbidRTCStream",
 *   streamId: "demo",
 *   state: "forbidden"
 * })
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
export const controlledJson = (action: "forbid" | "resume", result: StreamControl.Controlled): ControlledJson => ({
  requestId: result.requestId,
  action: action === "forbid" ? "ForbidRTCStream" : "ResumeRTCStream",
  streamId: result.streamId,
  state: action === "forbid" ? "forbidden" : "resumed"
})

/**
 * The human line of a forbid or resume.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * assert.ok(Output.controlledText("resume", { requestId: "1", streamId: "demo" }).startsWith("Stream demo: resumed"))
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const controlledText = (action: "forbid" | "resume", result: StreamControl.Controlled): string =>
  text([
    action === "forbid"
      ? `Stream ${result.streamId}: forbidden; its publisher is cut off and a new publish refused until ` +
        `${Invocation.command("stream resume")} (ForbidRTCStream, RequestId ${result.requestId})`
      : `Stream ${result.streamId}: resumed; it may be published again (ResumeRTCStream, RequestId ${result.requestId})`
  ])

/**
 * The JSON document of `zego-rtmp room announce|withdraw --json`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RoomJson {
  readonly requestId: string
  readonly action: "AddStream" | "DeleteStream"
  readonly roomId: string
  readonly streamId: string
}

/**
 * The JSON document of an announce or withdraw.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * assert.deepStrictEqual(Output.roomJson("announce", { requestId: "1", roomId: "lobby", streamId: "demo" }), {
 *   requestId: "1",
 *   action: "AddStream",
 *   roomId: "lobby",
 *   streamId: "demo"
 * })
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
export const roomJson = (action: "announce" | "withdraw", result: RoomStreams.Announced): RoomJson => ({
  requestId: result.requestId,
  action: action === "announce" ? "AddStream" : "DeleteStream",
  roomId: result.roomId,
  streamId: result.streamId
})

/**
 * The human line of an announce or withdraw.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   Output.roomText("withdraw", { requestId: "1", roomId: "lobby", streamId: "demo" }),
 *   "Stream demo: withdrawn from room lobby (DeleteStream, RequestId 1)"
 * )
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const roomText = (action: "announce" | "withdraw", result: RoomStreams.Announced): string =>
  text([
    action === "announce"
      ? `Stream ${result.streamId}: announced in room ${result.roomId} (AddStream, RequestId ${result.requestId})`
      : `Stream ${result.streamId}: withdrawn from room ${result.roomId} (DeleteStream, RequestId ${result.requestId})`
  ])

/**
 * The JSON document of `zego-rtmp room streams --json`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RoomStreamsJson {
  readonly requestId: string
  readonly action: "DescribeSimpleStreamList"
  readonly roomId: string
  readonly streams: ReadonlyArray<{
    readonly streamId: string
    readonly userId: string
    readonly userName: string
    /** ISO 8601, UTC. */
    readonly createdAt: string
    readonly streamNumberId: number
  }>
}

/**
 * The JSON document of a room's stream list.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * const stream = { streamId: "s1", userId: "u1", userName: "", createdAt: new Date(0), streamNumberId: 7 }
 * const document = Output.roomStreamsJson({ requestId: "1", roomId: "lobby", streams: [stream] })
 * assert.strictEqual(document.streams[0]?.createdAt, "1970-01-01T00:00:00.000Z")
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
export const roomStreamsJson = (result: RoomStreams.StreamList): RoomStreamsJson => ({
  requestId: result.requestId,
  action: "DescribeSimpleStreamList",
  roomId: result.roomId,
  streams: result.streams.map((stream) => ({
    streamId: stream.streamId,
    userId: stream.userId,
    userName: stream.userName,
    createdAt: stream.createdAt.toISOString(),
    streamNumberId: stream.streamNumberId
  }))
})

/**
 * The human text of a room's stream list: a heading line, then a line per stream.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * const stream = { streamId: "s1", userId: "u1", userName: "OBS", createdAt: new Date(0), streamNumberId: 7 }
 * assert.strictEqual(
 *   Output.roomStreamsText({ requestId: "1", roomId: "lobby", streams: [stream] }),
 *   "Room lobby: 1 stream (DescribeSimpleStreamList, RequestId 1)\n" +
 *     "  s1  by u1 (OBS)  since 1970-01-01T00:00:00.000Z  number 7"
 * )
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const roomStreamsText = (result: RoomStreams.StreamList): string => {
  const count = result.streams.length
  return text([
    `Room ${result.roomId}: ${count === 0 ? "no streams" : count === 1 ? "1 stream" : `${count} streams`} ` +
    `(DescribeSimpleStreamList, RequestId ${result.requestId})`,
    ...result.streams.map((stream) =>
      `  ${stream.streamId}  by ${stream.userId}${stream.userName === "" ? "" : ` (${stream.userName})`}  since ` +
      `${stream.createdAt.toISOString()}  number ${stream.streamNumberId}`
    )
  ])
}

/**
 * The JSON document of `zego-rtmp relay start|stop|clear --json` (`cdnUrl` for start and stop, its stream key masked
 * by `Params.maskCdnUrl`: the key is the CDN's secret).
 *
 * @since 0.1.0
 * @category models
 */
export interface RelayJson {
  readonly requestId: string
  readonly action: "CreatCDNTransferRule" | "DeleteCDNTransferRule" | "ClearCDNTransferRule"
  readonly streamId: string
  readonly cdnUrl?: string
}

const relayActions = {
  start: "CreatCDNTransferRule",
  stop: "DeleteCDNTransferRule",
  clear: "ClearCDNTransferRule"
} as const

/**
 * The JSON document of a relay start, stop or clear: the CDN URL's stream key masked (`Params.maskCdnUrl`).
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * const result = { requestId: "1", streamId: "demo", cdnUrl: "rtmp://127.0.0.1/live/0123456789abcdef" }
 * assert.deepStrictEqual(Output.relayJson("start", result), {
 *   requestId: "1",
 *   action: "CreatCDNTransferRule",
 *   streamId: "demo",
 *   cdnUrl: "rtmp://127.0.0.1/live/****cdef"
 * })
 * ```
 *
 * @since 0.1.0
 * @category JSON
 */
export const relayJson = (
  action: "start" | "stop" | "clear",
  result: StreamRelay.Relayed | StreamRelay.Cleared
): RelayJson => ({
  requestId: result.requestId,
  action: relayActions[action],
  streamId: result.streamId,
  ...("cdnUrl" in result ? { cdnUrl: Params.maskCdnUrl(result.cdnUrl) } : {})
})

/**
 * The human line of a relay start, stop or clear (every server string escaped, the CDN URL's stream key masked).
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   Output.relayText("clear", { requestId: "1", streamId: "demo" }),
 *   "Stream demo: relays not yet started dropped; running ones go on (ClearCDNTransferRule, RequestId 1)"
 * )
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const relayText = (
  action: "start" | "stop" | "clear",
  result: StreamRelay.Relayed | StreamRelay.Cleared
): string => {
  const tail = `(${relayActions[action]}, RequestId ${result.requestId})`
  const cdnUrl = "cdnUrl" in result ? Params.maskCdnUrl(result.cdnUrl) : ""
  return text([
    action === "start"
      ? `Stream ${result.streamId}: relayed to ${cdnUrl} while it is live (from when it starts, if not yet) ${tail}`
      : action === "stop"
      ? `Stream ${result.streamId}: relay to ${cdnUrl} stopped ${tail}`
      : `Stream ${result.streamId}: relays not yet started dropped; running ones go on ${tail}`
  ])
}
