/**
 * The relay actions (`CreatCDNTransferRule`, `DeleteCDNTransferRule`, `ClearCDNTransferRule`): signed as ZEGOCLOUD
 * documents it, independently of the core; the loopback rule; the rules' lifecycle, from the records. The relay that
 * moves media is tested end to end with nginx and ffmpeg in the CLI's `Relay.e2e.test.ts`.
 */
import { Params } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Relays from "../src/internal/relays.js"
import { baseOptions, prodApp, rawCall, signedParams, withEmulator } from "./utils.js"

let sequence = 0

/** A call of `action` signed with the core's signer (see the first test for the documented rule, written out). */
const call = (action: string, params: Record<string, string | undefined>) =>
  Effect.flatMap(
    signedParams(prodApp, { Action: action, Type: undefined, Sequence: String(++sequence), ...params }),
    (query) => Effect.map(rawCall(query), (answer) => answer.body)
  )

const hook = (url: string, fields: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ app: "live", addr: "127.0.0.1", clientid: "7", ...fields }).toString()
    })
    return response.status
  })

const CDN = "rtmp://127.0.0.1:19350/live/key"

/** Polls the records until `ok` holds of them (the relay's process reports on its own time). */
const recordsWhen = (ok: (records: ReadonlyArray<Emulator.RelayRecord>) => boolean) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const deadline = Date.now() + 60_000
    let records = yield* emulator.relays
    while (!ok(records)) {
      if (Date.now() > deadline) {
        return yield* Effect.dieMessage(`the relays never got there: ${JSON.stringify(records)}`)
      }
      yield* Effect.sleep("20 millis")
      records = yield* emulator.relays
    }
    return records
  })

describe("the relay actions", () => {
  it.live("a request signed by ZEGOCLOUD's documented rule (md5 of AppId, nonce, secret, Timestamp) is accepted", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Emulator.Emulator
      const secret = Redacted.value(prodApp.serverSecret)
      const answers: Array<number> = []
      for (const action of ["CreatCDNTransferRule", "DeleteCDNTransferRule", "ClearCDNTransferRule"]) {
        const nonce = randomBytes(8).toString("hex")
        const timestamp = String(Math.floor(Date.now() / 1000))
        const signature = createHash("md5").update(`${prodApp.appId}${nonce}${secret}${timestamp}`).digest("hex")
        const query = new URLSearchParams({
          Action: action,
          StreamId: "signed",
          Sequence: String(Date.now() + answers.length),
          ...(action === "ClearCDNTransferRule" ? {} : { CDNUrl: CDN }),
          AppId: String(prodApp.appId),
          SignatureNonce: nonce,
          Timestamp: timestamp,
          SignatureVersion: "2.0",
          Signature: signature
        })
        const body = yield* Effect.promise(() => fetch(`${baseUrl}/?${query}`).then((r) => r.json()))
        answers.push((body as { Code: number }).Code)
      }
      assert.deepStrictEqual(answers, [0, 0, 0])
    }).pipe(withEmulator()))

  it.live("a CDN URL off loopback, or not rtmp, is refused with 5004; a missing one is 5005; nothing is kept", () =>
    Effect.gen(function*() {
      const codes: Array<number> = []
      for (
        const url of [
          "rtmp://a.rtmp.youtube.com/live2/key",
          "rtmp://10.0.0.1/live/key",
          "https://127.0.0.1/live/key",
          "rtmp:///live/key"
        ]
      ) {
        codes.push((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: url })).Code)
      }
      codes.push((yield* call("DeleteCDNTransferRule", { StreamId: "cam", CDNUrl: "rtmp://example.com/a/b" })).Code)
      codes.push((yield* call("CreatCDNTransferRule", { StreamId: "cam" })).Code)
      assert.deepStrictEqual(codes, [5004, 5004, 5004, 5004, 5004, 5005])
      const refused = yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: "rtmp://example.com/a/b" })
      assert.include(refused.Message, "loopback")
      for (const url of ["rtmp://localhost/live/a", "rtmp://[::1]:1935/live/b", "rtmps://127.0.0.1/live/c"]) {
        assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: url })).Code, 0, url)
      }
      const records = yield* Effect.flatMap(Emulator.Emulator, (emulator) => emulator.relays)
      // Recorded with the stream key masked.
      assert.deepStrictEqual(records.map((r) => r.cdnUrl), [
        "rtmp://localhost/live/****",
        "rtmp://[::1]:1935/live/****",
        "rtmps://127.0.0.1/live/****"
      ])
    }).pipe(withEmulator()))

  it.live("without a media node rules are kept and recorded, nothing runs; clear drops them, delete ends one", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: CDN })).Code, 0)
      // The same rule again stands as it is.
      assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: CDN })).Code, 0)
      assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "other", CDNUrl: CDN })).Code, 0)
      // A simulated publish is no media node: the rule waits.
      yield* emulator.publish("cam")
      let records = yield* emulator.relays
      assert.deepStrictEqual(records.map((r) => [r.streamId, r.state]), [["cam", "pending"], ["other", "pending"]])

      assert.strictEqual((yield* call("ClearCDNTransferRule", { StreamId: "cam" })).Code, 0)
      records = yield* emulator.relays
      assert.deepStrictEqual(records.map((r) => [r.streamId, r.state, r.reason]), [
        ["cam", "stopped", "ClearCDNTransferRule before it started"],
        ["other", "pending", undefined]
      ])
      assert.strictEqual((yield* call("DeleteCDNTransferRule", { StreamId: "other", CDNUrl: CDN })).Code, 0)
      // Deleting a rule that is gone is done too.
      assert.strictEqual((yield* call("DeleteCDNTransferRule", { StreamId: "other", CDNUrl: CDN })).Code, 0)
      records = yield* emulator.relays
      assert.deepStrictEqual(records[1]?.reason, "DeleteCDNTransferRule before it started")
      assert.isTrue(records.every((r) => r.startedAt === undefined && r.pid === undefined))
    }).pipe(withEmulator()))

  it.scopedLive("a rule made first starts when the stream starts on a media node; the stream's end stops it", () =>
    Effect.gen(function*() {
      // A "media node" that accepts connections and says nothing: ffmpeg waits on it, so the relay stays running
      // until the emulator stops it.
      const sockets = new Set<Net.Socket>()
      const server = yield* Effect.acquireRelease(
        Effect.async<Net.Server>((resume) => {
          const server = Net.createServer((socket) => sockets.add(socket.on("error", () => {})))
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => resume(Effect.void))
          })
      )
      const port = (server.address() as Net.AddressInfo).port
      const node = { host: "127.0.0.1", port, app: "live" }
      yield* Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: CDN })).Code, 0)
        assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: `${CDN}2` })).Code, 0)
        assert.strictEqual((yield* call("RTMPDispatchV2", { StreamId: "cam", Type: "push" })).Code, 0)
        assert.strictEqual(yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam" }), 200)
        const running = yield* recordsWhen((records) => records.every((r) => r.state === "running"))
        assert.deepStrictEqual(running.map((r) => r.source), [
          `rtmp://127.0.0.1:${port}/live/cam`,
          `rtmp://127.0.0.1:${port}/live/cam`
        ])
        assert.isTrue(running.every((r) => typeof r.pid === "number" && r.startedAt !== undefined))
        // Clear leaves a running relay alone; delete stops that one only.
        assert.strictEqual((yield* call("ClearCDNTransferRule", { StreamId: "cam" })).Code, 0)
        assert.strictEqual((yield* call("DeleteCDNTransferRule", { StreamId: "cam", CDNUrl: `${CDN}2` })).Code, 0)
        let records = yield* emulator.relays
        assert.deepStrictEqual(records.map((r) => [r.state, r.reason]), [
          ["running", undefined],
          ["stopped", "DeleteCDNTransferRule"]
        ])
        assert.strictEqual(yield* hook(emulator.onPublishDoneUrl, { call: "publish_done", name: "cam" }), 200)
        records = yield* emulator.relays
        assert.deepStrictEqual(records.map((r) => [r.state, r.reason]), [
          ["stopped", "the stream ended"],
          ["stopped", "DeleteCDNTransferRule"]
        ])
      }).pipe(withEmulator({ ...baseOptions, nodes: { push: [node], pull: [node] } }))
    }))
})

describe("the CDN's stream key, a secret", () => {
  const key = "sk-0123456789abcdef"
  const url = `rtmp://127.0.0.1:19350/live/${key}?token=tok3n`
  const masked = "rtmp://127.0.0.1:19350/live/****cdef?****"

  it.live("the request log line and the rule's record show the CDN URL masked; the rule still works by it", () =>
    Effect.gen(function*() {
      assert.strictEqual(Params.maskCdnUrl(url), masked)
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.map(Logger.logfmtLogger, (line) => void lines.push(line))
      )
      yield* Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        assert.strictEqual((yield* call("CreatCDNTransferRule", { StreamId: "cam", CDNUrl: url })).Code, 0)
        assert.strictEqual((yield* call("DeleteCDNTransferRule", { StreamId: "cam", CDNUrl: url })).Code, 0)
        const records = yield* emulator.relays
        assert.deepStrictEqual(records.map((r) => [r.cdnUrl, r.state, r.reason]), [
          [masked, "stopped", "DeleteCDNTransferRule before it started"]
        ])
      }).pipe(Effect.provide(Emulator.layer({ apps: [prodApp], rateLimit: false }).pipe(Layer.provide(capture))))
      const logged = lines.filter((line) => line.includes("CDNTransferRule"))
      assert.lengthOf(logged, 2)
      for (const line of logged) assert.include(line, `CDNUrl=${masked}`)
      for (const line of lines) {
        assert.notInclude(line, key)
        assert.notInclude(line, "tok3n")
      }
    }))

  it.scopedLive("ffmpeg's last words about the URL are recorded masked, even when it writes the URL in two pieces", () =>
    Effect.gen(function*() {
      // A stand-in for ffmpeg that names its output URL (its last argument) as ffmpeg does when it cannot publish,
      // in two writes, then fails.
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "relay-ffmpeg-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const fake = Path.join(dir, "ffmpeg")
      Fs.writeFileSync(
        fake,
        `#!/bin/sh\nfor last; do :; done\nprintf '%s' "\${last%????????}" >&2\nsleep 0.2\n` +
          `printf '%s: Connection refused\\n' "\${last#\${last%????????}}" >&2\nexit 1\n`,
        { mode: 0o755 }
      )
      const logs: Array<string> = []
      const relays = yield* Effect.acquireRelease(
        Effect.sync(() =>
          Relays.make({ ffmpeg: fake, maxRules: 4, maxRecords: 4, log: (line) => void logs.push(line) })
        ),
        (relays) => Effect.promise(() => relays.close())
      )
      assert.isTrue(relays.add(prodApp.appId, "cam", url, 0))
      relays.streamStarted("cam", "rtmp://127.0.0.1:1935/live/cam", 0)
      const deadline = Date.now() + 60_000
      while (relays.records()[0]?.state !== "stopped") {
        if (Date.now() > deadline) return yield* Effect.dieMessage(`never stopped: ${JSON.stringify(relays.records())}`)
        yield* Effect.sleep("20 millis")
      }
      const [record] = relays.records()
      assert.strictEqual(record?.cdnUrl, masked)
      assert.strictEqual(record?.reason, `ffmpeg exited (code 1): ${masked}: Connection refused`)
      assert.lengthOf(logs, 2)
      assert.include(logs[0]!, `relay of cam to ${masked} started`)
      for (const text of [...logs, JSON.stringify(relays.records())]) {
        assert.notInclude(text, key)
        assert.notInclude(text, "tok3n")
      }
    }))
})
