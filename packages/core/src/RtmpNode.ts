/**
 * The nodes a dispatch returns: an RTMP URL (`RTMPDispatchV2`) parsed into the parts OBS and players need,
 * and a `host:port` address (`RTMPDispatch`).
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { isIpv4 } from "./Params.js"
import * as Untrusted from "./Untrusted.js"

/**
 * An RTMP node URL taken apart: where to connect, and the two fields OBS asks for.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 *
 * const node = RtmpNode.parseRtmpUrl("rtmp://81.69.49.115:1935/1540531164/caodantest")!
 * assert.strictEqual(node.obsServer, "rtmp://81.69.49.115:1935/1540531164/")
 * assert.strictEqual(node.obsStreamKey, "caodantest")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class RtmpNode extends Schema.Class<RtmpNode>("RtmpNode")({
  /** The URL as the server sent it, e.g. `rtmp://81.69.49.115:1935/1540531164/caodantest`. */
  url: Schema.String,
  host: Schema.String,
  port: Schema.Int,
  /** The RTMP application: the path between the host and the last `/`. */
  app: Schema.String,
  /** The stream name: everything after the last `/`. */
  streamName: Schema.String,
  /** OBS "Server": the URL up to and including the last `/`. */
  obsServer: Schema.String,
  /** OBS "Stream key": the rest of the URL. */
  obsStreamKey: Schema.String
}) {}

const RTMP_URL = /^(rtmps?):\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/([^?#\s]+)\/([^/\s]+)$/

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/

/**
 * Whether a host is one: an IPv4 dotted quad, a DNS name of valid labels, or a bracketed IPv6 address that the
 * WHATWG URL parser accepts (so `[:::.:.]` is not one). A name that ends in a number must be an IPv4 address.
 */
const isHost = (host: string): boolean => {
  if (host.startsWith("[")) {
    try {
      new URL(`http://${host}/`)
      return true
    } catch {
      return false
    }
  }
  if (isIpv4(host)) return true
  const labels = host.split(".")
  return host.length <= 253 && labels.every((label) => DNS_LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!)
}

const parsePort = (text: string | undefined, fallback: number): number | undefined => {
  if (text === undefined) return fallback
  const port = Number(text)
  return port >= 1 && port <= 65535 ? port : undefined
}

/**
 * Parses an RTMP URL string into a {@link RtmpNode}; anything that is not `rtmp://host[:port]/app/stream` fails.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 *
 * const node = RtmpNode.parseRtmpUrl("rtmp://81.69.49.115/live/stream1")
 * assert.strictEqual(node?.port, 1935)
 * assert.strictEqual(RtmpNode.parseRtmpUrl("http://example.com/live/stream1"), undefined)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseRtmpUrl = (url: string): RtmpNode | undefined => {
  // A control or bidi character would let a hostile server rewrite what a terminal shows of the URL.
  if (Untrusted.hasUnsafeCharacters(url)) return undefined
  const match = RTMP_URL.exec(url)
  if (match === null) return undefined
  const [, scheme, host, portText, app, streamName] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string
  ]
  const port = parsePort(portText, scheme === "rtmps" ? 443 : 1935)
  if (port === undefined || !isHost(host)) return undefined
  const split = url.lastIndexOf("/") + 1
  // Every field is checked above: the class need not validate them again (`true`: no validation).
  return new RtmpNode({
    url,
    host: host.startsWith("[") ? host.slice(1, -1) : host,
    port,
    app,
    streamName,
    obsServer: url.slice(0, split),
    obsStreamKey: url.slice(split)
  }, true)
}

/**
 * Decodes the URL string of a V2 answer into a {@link RtmpNode}.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const nodes = Schema.decodeUnknownSync(Schema.Array(RtmpNode.RtmpNodeFromUrl))(["rtmp://127.0.0.1:1935/live/s1"])
 * assert.strictEqual(nodes[0]?.app, "live")
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RtmpNodeFromUrl = Schema.transformOrFail(Schema.String, Schema.typeSchema(RtmpNode), {
  strict: true,
  decode: (url, _, ast) => {
    const node = parseRtmpUrl(url)
    return node === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, url, "expected an RTMP URL rtmp://host[:port]/app/stream"))
      : ParseResult.succeed(node)
  },
  encode: (node) => ParseResult.succeed(node.url)
}).annotations({ identifier: "RtmpNodeFromUrl" })

/**
 * A `host:port` node address, as `RTMPDispatch` (V1) answers it.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 *
 * const address = RtmpNode.parseNodeAddress("81.69.49.115:1935")
 * assert.strictEqual(address instanceof RtmpNode.NodeAddress, true)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class NodeAddress extends Schema.Class<NodeAddress>("NodeAddress")({
  /** The address as the server sent it, e.g. `81.69.49.115:1935`. */
  address: Schema.String,
  host: Schema.String,
  port: Schema.Int
}) {}

const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/

/**
 * Parses `host:port` into a {@link NodeAddress}.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 *
 * const address = RtmpNode.parseNodeAddress("81.69.49.115:1935")
 * assert.deepStrictEqual([address?.host, address?.port], ["81.69.49.115", 1935])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseNodeAddress = (address: string): NodeAddress | undefined => {
  const match = HOST_PORT.exec(address)
  if (match === null) return undefined
  const [, host, portText] = match as unknown as [string, string, string]
  const port = parsePort(portText, 0)
  if (port === undefined || !isHost(host)) return undefined
  return new NodeAddress({ address, host: host.startsWith("[") ? host.slice(1, -1) : host, port }, true)
}

/**
 * Decodes the string of a V1 answer into a {@link NodeAddress}.
 *
 * @example
 * ```ts
 * import { RtmpNode } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const address = Schema.decodeUnknownSync(RtmpNode.NodeAddressFromString)("127.0.0.1:1935")
 * assert.strictEqual(address.port, 1935)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const NodeAddressFromString = Schema.transformOrFail(Schema.String, Schema.typeSchema(NodeAddress), {
  strict: true,
  decode: (address, _, ast) => {
    const node = parseNodeAddress(address)
    return node === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, address, "expected a host:port address"))
      : ParseResult.succeed(node)
  },
  encode: (node) => ParseResult.succeed(node.address)
}).annotations({ identifier: "NodeAddressFromString" })
