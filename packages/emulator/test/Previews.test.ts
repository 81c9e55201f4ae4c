/**
 * The dashboard's previews with a stand-in for ffmpeg (a script writing a fragmented MP4's boxes: `ftyp`, `moov`,
 * then a `moof` + `mdat` pair every 50 ms, each `mdat` numbered), served to real HTTP clients on loopback: one
 * process per stream shared by its viewers, a late viewer starting cleanly at a fragment, the bounds, and the
 * process stopped when no one watches or the stream ends. (Real ffmpeg and Chromium: the CLI's Dashboard.e2e test.)
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Previews from "../src/internal/previews.js"

/** The stand-in: ignores its arguments, writes its PID to a file beside it, then the boxes. */
const FAKE_FFMPEG = `#!/usr/bin/env node
const fs = require("node:fs")
fs.writeFileSync(__filename + ".pid." + process.pid, "")
const box = (type, payload) => {
  const body = Buffer.from(payload)
  const head = Buffer.alloc(8)
  head.writeUInt32BE(8 + body.length, 0)
  head.write(type, 4, "latin1")
  return Buffer.concat([head, body])
}
process.stdout.write(Buffer.concat([box("ftyp", "isom"), box("moov", "init")]))
let n = 0
setInterval(() => {
  n++
  // A fragment in two writes, cut inside a box: the reader must join them.
  const fragment = Buffer.concat([box("moof", "m" + n), box("mdat", "frame " + n)])
  process.stdout.write(fragment.subarray(0, 11))
  setTimeout(() => process.stdout.write(fragment.subarray(11)), 5)
}, 50)
`

/** The top-level boxes of a byte stream: their types and payloads as text. */
const boxes = (bytes: Buffer): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = bytes.readUInt32BE(at)
    if (at + size > bytes.length) break
    found.push(`${bytes.toString("latin1", at + 4, at + 8)}:${bytes.toString("latin1", at + 8, at + size)}`)
    at += size
  }
  return found
}

/** A server whose every request views `streamId` (from the path) through `previews`. */
const server = (previews: Previews.Previews) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly origin: string }>((resume) => {
      const server = Http.createServer((request, response) => {
        const refused = previews.view(request.url!.slice(1), "rtmp://127.0.0.1:1/live/x", response)
        if (refused !== undefined) response.writeHead(503).end(refused)
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() =>
          resume(Effect.void)
        )
      })
  )

/** A viewer: what it received so far, its status, and a way to leave. */
const viewer = (url: string) =>
  Effect.async<
    {
      readonly status: number
      readonly received: () => Buffer
      readonly leave: () => void
      readonly ended: () => boolean
    }
  >(
    (resume) => {
      const request = Http.get(url, (response) => {
        const chunks: Array<Buffer> = []
        let ended = false
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.once("end", () => (ended = true))
        response.once("close", () => (ended = true))
        resume(Effect.succeed({
          status: response.statusCode!,
          received: () => Buffer.concat(chunks),
          leave: () => request.destroy(),
          ended: () => ended
        }))
      })
    }
  )

/** Polls `check` every 20 ms until it holds; fails after 20 seconds (a busy machine). */
const eventually = (what: string, check: () => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 20_000
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`not after 20 s: ${what}`)
      yield* Effect.sleep("20 millis")
    }
  })

const setup = (options: { readonly maxStreams: number; readonly maxViewers: number }) =>
  Effect.gen(function*() {
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "zego-previews-"))),
      (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
    )
    const ffmpeg = path.join(folder, "ffmpeg")
    fs.writeFileSync(ffmpeg, FAKE_FFMPEG, { mode: 0o755 })
    const log: Array<string> = []
    const previews = yield* Effect.acquireRelease(
      Effect.sync(() => Previews.make({ ffmpeg, ...options, log: (line) => log.push(line) })),
      (previews) => Effect.promise(() => previews.close())
    )
    const { origin } = yield* server(previews)
    const started = () => fs.readdirSync(folder).filter((name) => name.startsWith("ffmpeg.pid.")).length
    return { previews, origin, log, started }
  })

describe("the dashboard's previews", () => {
  it.scopedLive("one process per stream for every viewer; a late viewer starts at the init segment, then a fragment", () =>
    Effect.gen(function*() {
      const { log, origin, previews, started } = yield* setup({ maxStreams: 4, maxViewers: 4 })
      const first = yield* viewer(`${origin}/cam`)
      assert.strictEqual(first.status, 200)
      yield* eventually("the first viewer gets fragments", () => boxes(first.received()).length >= 8)
      const second = yield* viewer(`${origin}/cam`)
      yield* eventually("the second viewer gets fragments", () => boxes(second.received()).length >= 6)
      assert.strictEqual(started(), 1, "one process for both")
      assert.strictEqual(previews.running(), 1)

      const firstBoxes = boxes(first.received())
      assert.deepStrictEqual(firstBoxes.slice(0, 4), ["ftyp:isom", "moov:init", "moof:m1", "mdat:frame 1"])
      const secondBoxes = boxes(second.received())
      assert.deepStrictEqual(secondBoxes.slice(0, 2), ["ftyp:isom", "moov:init"])
      // Then whole fragments, from a later one on, in order.
      const number = Number(/^moof:m(\d+)$/.exec(secondBoxes[2]!)?.[1])
      assert.isAbove(number, 1)
      assert.deepStrictEqual(secondBoxes.slice(2, 6), [
        `moof:m${number}`,
        `mdat:frame ${number}`,
        `moof:m${number + 1}`,
        `mdat:frame ${number + 1}`
      ])

      first.leave()
      yield* Effect.sleep("200 millis")
      assert.strictEqual(previews.running(), 1, "one viewer is left")
      second.leave()
      yield* eventually("the preview stops when no one watches", () => previews.running() === 0)
      assert.include(log.join("\n"), "preview of cam stopped: no one watches it")
    }))

  it.scopedLive("bounded: past the most streams or viewers a viewer is refused; a stream's end ends its viewers", () =>
    Effect.gen(function*() {
      const { origin, previews, started } = yield* setup({ maxStreams: 1, maxViewers: 2 })
      const a = yield* viewer(`${origin}/one`)
      const b = yield* viewer(`${origin}/one`)
      assert.deepStrictEqual([a.status, b.status], [200, 200])
      assert.strictEqual((yield* viewer(`${origin}/one`)).status, 503, "a third viewer")
      assert.strictEqual((yield* viewer(`${origin}/two`)).status, 503, "a second stream")
      yield* eventually("the viewers get fragments", () => boxes(b.received()).length >= 4)

      previews.streamEnded("one")
      yield* eventually("both viewers' answers end", () => a.ended() && b.ended())
      assert.strictEqual(previews.running(), 0)
      assert.strictEqual(started(), 1)
      // The slot is free again.
      const c = yield* viewer(`${origin}/two`)
      assert.strictEqual(c.status, 200)
      yield* eventually("the new stream's viewer gets fragments", () => boxes(c.received()).length >= 4)
      c.leave()
    }))
})
