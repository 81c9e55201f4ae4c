import { Callback } from "@effect-zego/core"
import { Emulator, MediaNode } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import * as path from "node:path"
import type * as Output from "../src/Output.js"
import * as Bin from "./utils/bin.js"
import { runInProcess } from "./utils/inProcess.js"

/** The variables of a printed `export A=1 B=2` line. */
const exported = (line: string): Record<string, string> =>
  Object.fromEntries(
    line.replace(/^export /, "").split(" ").map((assignment) => {
      const [name, ...value] = assignment.split("=")
      return [name!, value.join("=").replace(/^'(.*)'$/, "$1")]
    })
  )

/** A port free a moment ago, for a server started next. */
const freePort = Effect.orDie(MediaNode.freePort())

const EXPORT_LINE = /^export ZEGO_APP_ID=.*$/m

const withConfig = <A, E, R>(config: unknown, f: (file: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(path.join(tmpdir(), "zego-rtmp-"))),
    (dir) => {
      const file = path.join(dir, "emulator.json")
      writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config))
      return f(file)
    },
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe.concurrent("zego-rtmp emulator", () => {
  it.scopedLive("prints its base URL and the demo credentials; a dispatch uses them; SIGTERM stops it cleanly", () =>
    Effect.gen(function*() {
      const emulator = yield* Bin.spawnBin(["emulator", "--port", "0"])
      const [line] = yield* emulator.waitFor(EXPORT_LINE)
      const env = exported(line)
      assert.strictEqual(env.ZEGO_APP_ID, String(Emulator.demoApp.appId))
      assert.strictEqual(env.ZEGO_SERVER_SECRET, Redacted.value(Emulator.demoApp.serverSecret))
      assert.match(env.ZEGO_BASE_URL!, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.include(yield* emulator.stdout, `listening on ${env.ZEGO_BASE_URL}`)

      const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "live-1", "--json"], { env })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stderr, "", "no embedded emulator: the credentials are set")
      const json = JSON.parse(result.stdout) as Output.DispatchJson
      assert.strictEqual((json.nodes[0] as Output.NodeJson).url, "rtmp://127.0.0.1:1935/live/live-1")

      const stderr = yield* emulator.stderr
      assert.include(stderr, "StreamId=live-1", "the request is logged")
      assert.include(stderr, "Signature=<redacted>")
      assert.notInclude(stderr, Redacted.value(Emulator.demoApp.serverSecret))

      yield* emulator.kill("SIGTERM")
      const exit = yield* emulator.exit
      assert.strictEqual(exit.code, 0, exit.stderr)
      assert.include(exit.stderr, "emulator stopped")
    }))

  it.scopedLive("--config: the file's apps and port; a real secret is never printed; SIGINT stops it", () => {
    const secret = "feedfacefeedfacefeedfacefeedface"
    const config = (port: number) => ({ apps: [{ appId: 777, serverSecret: secret, isTest: true }], port })
    return Effect.flatMap(freePort, (port) =>
      withConfig(config(port), (file) =>
        Effect.gen(function*() {
          const emulator = yield* Bin.spawnBin(["emulator", "--config", file])
          const [line] = yield* emulator.waitFor(EXPORT_LINE)
          const env = exported(line)
          assert.deepStrictEqual(env, {
            ZEGO_APP_ID: "777",
            ZEGO_BASE_URL: `http://127.0.0.1:${port}`,
            ZEGO_IS_TEST: "true"
          })
          assert.include(yield* emulator.stdout, `ZEGO_SERVER_SECRET=<the serverSecret of app 777 in ${file}>`)

          const result = yield* Bin.run(["dispatch", "--type", "pull", "--stream-id", "x", "--json"], {
            env: { ...env, ZEGO_SERVER_SECRET: secret }
          })
          assert.strictEqual(result.code, 0, result.stderr)
          assert.strictEqual((JSON.parse(result.stdout) as Output.DispatchJson).streamId, "zegotest-777-x")

          yield* emulator.kill("SIGINT")
          const exit = yield* emulator.exit
          assert.strictEqual(exit.code, 0, exit.stderr)
          for (const text of [exit.stdout, exit.stderr, result.stdout, result.stderr]) {
            assert.isFalse(Bin.leaks(text, secret), "the secret from the file is printed")
          }
        })))
  })

  it.scopedLive("the README's room example works on the default emulator; an unknown room is RoomNotFoundError", () =>
    Effect.gen(function*() {
      const emulator = yield* Bin.spawnBin(["emulator", "--port", "0"])
      const [line] = yield* emulator.waitFor(EXPORT_LINE)
      const env = exported(line)
      assert.include(
        yield* emulator.stdout,
        "# Rooms (for zego-rtmp room announce; --room ID adds one): lobby, match-room"
      )
      const run = (args: ReadonlyArray<string>) =>
        Effect.tap(Bin.run(args, { env }), (result) => assert.strictEqual(result.code, 0, result.stderr))

      // As packages/cli/README.md and the root README write them.
      for (const room of ["lobby", "match-room"]) {
        const announced = yield* run([
          "room",
          "announce",
          "--room-id",
          room,
          "--stream-id",
          "match-42",
          "--title",
          "Final"
        ])
        assert.match(announced.stdout, new RegExp(`^Stream match-42: announced in room ${room} \\(AddStream, `))
        const listed = Bin.lines((yield* run(["room", "streams", "--room-id", room])).stdout)
        assert.match(listed[0]!, new RegExp(`^Room ${room}: 1 stream \\(DescribeSimpleStreamList, `))
        assert.match(listed[1]!, /^ {2}match-42 {2}by Server-Administrator {2}since /)
        const withdrawn = yield* run(["room", "withdraw", "--room-id", room, "--stream-id", "match-42"])
        assert.match(withdrawn.stdout, new RegExp(`^Stream match-42: withdrawn from room ${room} `))
      }

      const unknown = yield* Bin.run(["room", "announce", "--room-id", "nowhere", "--stream-id", "match-42"], { env })
      assert.strictEqual(unknown.code, 1, unknown.stderr)
      assert.strictEqual(unknown.stdout, "")
      const lines = Bin.lines(unknown.stderr)
      assert.strictEqual(lines.length, 1, unknown.stderr)
      assert.match(lines[0]!, /^RoomNotFoundError: ZEGO code 104 \(the room does not exist.*\) from AddStream, /)
      assert.include(lines[0]!, "The room must exist: AddStream cannot create one")
      assert.notInclude(lines[0]!, "contact ZEGOCLOUD support")
    }))

  it.scopedLive("--room adds rooms; a config file of only rooms is accepted, with the demo apps", () =>
    withConfig({ rooms: ["hall"] }, (file) =>
      Effect.gen(function*() {
        const emulator = yield* Bin.spawnBin(["emulator", "--config", file, "--room", "stage", "--room", "hall"])
        const [line] = yield* emulator.waitFor(EXPORT_LINE)
        const env = exported(line)
        assert.strictEqual(env.ZEGO_APP_ID, String(Emulator.demoApp.appId), "the demo app: the file names none")
        assert.include(yield* emulator.stdout, "--room ID adds one): hall, stage\n")
        for (const room of ["hall", "stage"]) {
          const announced = yield* Bin.run(["room", "announce", "--room-id", room, "--stream-id", `in-${room}`], {
            env
          })
          assert.strictEqual(announced.code, 0, announced.stderr)
        }
        // The file named its rooms: the demo rooms are not added.
        const lobby = yield* runInProcess(["room", "announce", "--room-id", "lobby", "--stream-id", "cam"], env)
        assert.strictEqual(lobby.code, 1, lobby.line)
        assert.match(lobby.line!, /^RoomNotFoundError: /)
      })))

  // In the test's process: each fails before the emulator starts. The real bin with a file that is not JSON, and with
  // one that is not valid, is reliability's CliHostile.test.ts (exit status 2, one line on stderr, no secret).
  it.live("a configuration file that is not JSON, or not valid, is a ConfigFileError (exit status 2)", () =>
    Effect.gen(function*() {
      const notJson = yield* withConfig("{ apps: ", (file) => runInProcess(["emulator", "--config", file]))
      assert.strictEqual(notJson.code, 2, notJson.line)
      assert.notInclude(notJson.line ?? "", "\n")
      assert.match(notJson.line ?? "", /^ConfigFileError: .* is not JSON/)

      const invalid = yield* withConfig(
        { apps: [{ appId: -1, serverSecret: "feedfacefeedfacefeedfacefeedface" }] },
        (file) => runInProcess(["emulator", "--config", file])
      )
      assert.strictEqual(invalid.code, 2, invalid.line)
      assert.match(invalid.line ?? "", /^ConfigFileError: .* is invalid: apps\.0\.appId/)
      assert.notInclude(invalid.line, "feedface")

      const missing = yield* runInProcess(["emulator", "--config", "/nonexistent/zego.json"])
      assert.strictEqual(missing.code, 2, missing.line)
      assert.match(missing.line ?? "", /^ValidationError/)

      const badPort = yield* runInProcess(["emulator", "--port", "70000"])
      assert.strictEqual(badPort.code, 2, badPort.line)
      assert.match(badPort.line ?? "", /^ValidationError \(InvalidValue\): --port must be 0 to 65535/)
    }))

  it.scopedLive("--callback-url: the demo app's stream callbacks go there, signed with ZEGO_CALLBACK_SECRET", () =>
    Effect.gen(function*() {
      const secret = "cli-callback-secret-0123456789"
      const received: Array<string> = []
      const server = yield* Effect.acquireRelease(
        Effect.async<Http.Server>((resume) => {
          const server = Http.createServer((request, response) => {
            const chunks: Array<Buffer> = []
            request.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => {
              received.push(Buffer.concat(chunks).toString("utf8"))
              response.end()
            })
          }).listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const callbackUrl = `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}/zego`
      const emulator = yield* Bin.spawnBin(["emulator", "--port", "0", "--callback-url", callbackUrl], {
        env: { ZEGO_CALLBACK_SECRET: secret }
      })
      const [line] = yield* emulator.waitFor(EXPORT_LINE)
      const env = exported(line)
      assert.include(
        yield* emulator.stdout,
        `# App ${Emulator.demoApp.appId}: stream callbacks (stream_create, stream_close) go to ${callbackUrl}`
      )
      // A push dispatch, then the publish nginx-rtmp would ask about: the stream starts.
      const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "cb-1", "--json"], { env })
      assert.strictEqual(result.code, 0, result.stderr)
      const publish = yield* Effect.promise(() =>
        fetch(`${env.ZEGO_BASE_URL}/rtmp/on_publish`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ call: "publish", app: "live", name: "cb-1", addr: "127.0.0.1" }).toString()
        }).then((response) => response.status)
      )
      assert.strictEqual(publish, 200)
      const deadline = Date.now() + 20_000
      while (received.length === 0 && Date.now() < deadline) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      }
      assert.strictEqual(received.length, 1, "stream_create received")
      const body = JSON.parse(received[0]!) as Record<string, string>
      assert.strictEqual(body.event, "stream_create")
      assert.strictEqual(body.appid, String(Emulator.demoApp.appId))
      assert.strictEqual(body.stream_id, "cb-1")
      assert.strictEqual(body.signature, Callback.signature(Redacted.make(secret), body.timestamp!, body.nonce!))

      yield* emulator.kill("SIGTERM")
      const exit = yield* emulator.exit
      assert.strictEqual(exit.code, 0, exit.stderr)
      assert.include(exit.stderr, "callback stream_create of stream cb-1")
      for (const text of [exit.stdout, exit.stderr]) assert.isFalse(Bin.leaks(text, secret), "the secret is printed")
    }))

  it.live("--callback-url without ZEGO_CALLBACK_SECRET, or off loopback: InvalidOptionsError (exit status 2)", () =>
    Effect.gen(function*() {
      const noSecret = yield* runInProcess(["emulator", "--callback-url", "http://127.0.0.1:9/cb"])
      assert.strictEqual(noSecret.code, 2, noSecret.line)
      assert.match(
        noSecret.line ?? "",
        /^InvalidOptionsError: --callback-url needs the callback secret in ZEGO_CALLBACK_SECRET/
      )

      const remote = yield* runInProcess(["emulator", "--callback-url", "http://203.0.113.9/cb"], {
        ZEGO_CALLBACK_SECRET: "cli-secret-value"
      })
      assert.strictEqual(remote.code, 2, remote.line)
      assert.match(
        remote.line ?? "",
        /^InvalidOptionsError: apps\.0\.callbackUrl: callbackUrl must be an http:\/\/ URL on a loopback host/
      )
      assert.notInclude(remote.line, "cli-secret-value")
    }))

  it.scopedLive("--cors: the origins, repeated or comma-separated, get the preflight and the allow header", () =>
    Effect.gen(function*() {
      const emulator = yield* Bin.spawnBin([
        "emulator",
        "--port",
        "0",
        "--cors",
        "http://127.0.0.1:5173, http://localhost:5173",
        "--cors",
        "http://[::1]:8080"
      ])
      const [line] = yield* emulator.waitFor(EXPORT_LINE)
      const baseUrl = exported(line).ZEGO_BASE_URL!
      assert.include(
        yield* emulator.stdout,
        "http://127.0.0.1:5173, http://localhost:5173, http://[::1]:8080",
        "the start output names the origins"
      )
      const preflight = (origin: string) =>
        Effect.promise(() =>
          fetch(`${baseUrl}/?Action=RTMPDispatchV2`, {
            method: "OPTIONS",
            headers: { origin, "access-control-request-method": "GET" }
          })
        )
      for (const origin of ["http://localhost:5173", "http://[::1]:8080"]) {
        const answer = yield* preflight(origin)
        assert.strictEqual(answer.status, 204, origin)
        assert.strictEqual(answer.headers.get("access-control-allow-origin"), origin)
      }
      const other = yield* preflight("http://127.0.0.1:9999")
      assert.isNull(other.headers.get("access-control-allow-origin"))
    }))

  // @effect/cli would drop an empty --room and start without it; the bin refuses it as the usage error it is. The
  // variants are Argv's (argv.test.ts).
  it.live("--room with an empty room id is a usage error (exit status 2), the emulator not started", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["emulator", "--room", "stage", "--room", ""], { timeout: "30 seconds" })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.deepStrictEqual(Bin.lines(result.stderr), [
        "ValidationError (InvalidValue): --room takes a room id of 1 to 127 bytes without spaces at its ends, not \"\". " +
        "See zego-rtmp emulator --help."
      ])
    }))

  it.live("--cors with something that is not an origin: InvalidOptionsError (exit status 2)", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["emulator", "--cors", "http://127.0.0.1:5173/path"])
      assert.strictEqual(result.code, 2, result.line)
      assert.match(result.line ?? "", /^InvalidOptionsError: .*cors/)
    }))

  it.live("a port already taken is a StartError (exit status 1)", () =>
    Effect.acquireUseRelease(
      Effect.async<Net.Server>((resume) => {
        const server = Net.createServer().listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.gen(function*() {
          const port = (server.address() as Net.AddressInfo).port
          const result = yield* Bin.run(["emulator", "--port", String(port)])
          assert.strictEqual(result.code, 1, result.stderr)
          assert.strictEqual(Bin.lines(result.stderr).length, 1, result.stderr)
          assert.match(result.stderr, new RegExp(`^StartError: .*127\\.0\\.0\\.1:${port}`))
        }),
      (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    ))
})
