import { RtmpNode, Untrusted } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as MediaCommands from "../src/MediaCommands.js"
import * as Output from "../src/Output.js"

const urls = ["rtmp://127.0.0.1:1935/live/cam", "rtmp://127.0.0.2:1936/edge/app/cam"] as const
const nodes = [RtmpNode.parseRtmpUrl(urls[0])!, RtmpNode.parseRtmpUrl(urls[1])!] as const

describe("Output", () => {
  it("prints every node of a push in the server's order, each with OBS settings and an ffmpeg command", () => {
    const text = Output.dispatchedText({ requestId: "7", streamId: "cam", type: "push", nodes })
    const lines = text.split("\n").map((line) => line.trim())
    assert.strictEqual(lines[0], "Publish (push): 2 nodes for stream cam (RTMPDispatchV2, RequestId 7)")
    assert.isBelow(lines.indexOf(`Node 1: ${urls[0]}`), lines.indexOf(`Node 2: ${urls[1]}`))
    assert.include(lines, "OBS Server:      rtmp://127.0.0.2:1936/edge/app/")
    assert.include(lines, MediaCommands.publishCommand(urls[1]))
    assert.include(lines, "Use the first node; the others are fallbacks, in the server's order.")
  })

  it("gives the JSON of both actions with the fields of each node", () => {
    const json = Output.dispatchedJson({ requestId: "7", streamId: "cam", type: "pull", nodes })
    assert.deepStrictEqual(json.nodes[1], {
      url: urls[1],
      host: "127.0.0.2",
      port: 1936,
      app: "edge/app",
      streamName: "cam",
      obsServer: "rtmp://127.0.0.2:1936/edge/app/",
      obsStreamKey: "cam"
    })
    const address = RtmpNode.parseNodeAddress("127.0.0.1:1935")!
    assert.deepStrictEqual(
      Output.addressesJson({ requestId: "8", streamId: "cam", type: "push", addresses: [address] }),
      {
        requestId: "8",
        action: "RTMPDispatch",
        type: "push",
        streamId: "cam",
        nodes: [{ address: "127.0.0.1:1935", host: "127.0.0.1", port: 1935 }]
      }
    )
  })

  it("escapes a server's strings in the human text; the JSON keeps them exact, with nothing a terminal obeys", () => {
    const url = "rtmp://198.51.100.1:1935/live/s\u001b[2K\u001b[1Gcurl|sh\u202e\u009b"
    // The core refuses such a URL (ResponseDecodeError); the CLI escapes all the same, in case a node gets through.
    assert.isUndefined(RtmpNode.parseRtmpUrl(url))
    const split = url.lastIndexOf("/") + 1
    const node = new RtmpNode.RtmpNode({
      url,
      host: "198.51.100.1",
      port: 1935,
      app: "live",
      streamName: url.slice(split),
      obsServer: url.slice(0, split),
      obsStreamKey: url.slice(split)
    })
    const result = { requestId: "1\n2\u2028", streamId: "s", type: "push" as const, nodes: [node] as const }
    const text = Output.dispatchedText(result)
    assert.isFalse(Untrusted.hasUnsafeCharacters(text.replaceAll("\n", "")))
    assert.include(text, "RequestId 1\\n2\\u2028)")
    assert.include(text, "s\\x1b[2K\\x1b[1Gcurl|sh\\u202e\\x9b")
    const json = Output.json(Output.dispatchedJson(result))
    assert.isFalse(Untrusted.hasUnsafeCharacters(json.replaceAll("\n", "")))
    assert.deepStrictEqual(JSON.parse(json), Output.dispatchedJson(result))
  })

  it("stream and room lines escape what the server sent; their JSON keeps it exact and terminal-safe", () => {
    const requestId = "7\u001b[2J\u202e\nforged"
    const createdAt = new Date(Date.UTC(2026, 10, 30, 12))
    const lines = [
      Output.streamStateText({ state: "active", requestId, streamId: "cam", createdAt }),
      Output.streamStateText({ state: "not-found", requestId, streamId: "cam" }),
      Output.controlledText("forbid", { requestId, streamId: "cam" }),
      Output.roomText("withdraw", { requestId, roomId: "lobby\u0007", streamId: "cam" })
    ]
    for (const line of lines) {
      // eslint-disable-next-line no-control-regex
      assert.notMatch(line, /[\u0000-\u001f\u007f-\u009f\u202e]/)
      assert.include(line, Untrusted.escapeText(requestId))
    }
    assert.strictEqual(
      lines[0],
      `Stream cam: active since 2026-11-30T12:00:00.000Z (DescribeRTCStreamState, RequestId ${
        Untrusted.escapeText(requestId)
      })`
    )
    const json = Output.json(
      Output.streamStateJson({ state: "closed", requestId, streamId: "cam", createdAt, closedAt: createdAt })
    )
    // eslint-disable-next-line no-control-regex
    assert.notMatch(json, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
    assert.deepStrictEqual(JSON.parse(json), {
      requestId,
      action: "DescribeRTCStreamState",
      streamId: "cam",
      state: "closed",
      createdAt: createdAt.toISOString(),
      closedAt: createdAt.toISOString()
    })
  })
})
