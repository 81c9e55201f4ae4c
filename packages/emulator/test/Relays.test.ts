/**
 * The relay actions (`CreatCDNTransferRule`, `DeleteCDNTransferRule`, `ClearCDNTransferRule`): signed as ZEGOCLOUD
 * documents it, independently of the core; the loopback rule; the rules' lifecycle, from the records. The relay that
 * moves media is tested end to end with nginx and ffmpeg in the CLI's `Relay.e2e.test.ts`.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import * as Net from "node:net"
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
      assert.deepStrictEqual(records.map((r) => r.cdnUrl), [
        "rtmp://localhost/live/a",
        "rtmp://[::1]:1935/live/b",
        "rtmps://127.0.0.1/live/c"
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
