/**
 * The local media node: nginx with its RTMP module, run by the test with its own configuration in a temporary
 * folder, and stopped by its PID. Needs the Debian packages nginx and libnginx-mod-rtmp (CI installs them): without
 * them these tests fail, naming the package. Streams through it are tested in the CLI's Rtmp.e2e.test.ts.
 */
import { MediaNode } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as Net from "node:net"

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const connects = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => (socket.destroy(), resume(Effect.succeed(true))))
    socket.once("error", () => resume(Effect.succeed(false)))
  })

describe("MediaNode", () => {
  it.effect("freePort: a port below the ephemeral ranges, free to listen on, different from call to call", () =>
    Effect.gen(function*() {
      const ports = yield* Effect.all(Array.from({ length: 8 }, () => MediaNode.freePort()))
      for (const port of ports) assert.isTrue(port >= 20_000 && port < 32_000, String(port))
      assert.isTrue(new Set(ports).size > 1)
      const port = ports[0]!
      const listened = yield* Effect.async<boolean>((resume) => {
        const server = Net.createServer()
        server.once("error", () => resume(Effect.succeed(false)))
        server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.succeed(true))))
      })
      assert.isTrue(listened)
    }))

  it("writes a configuration with everything in its folder, one foreground process, a live application", () => {
    const text = MediaNode.config({
      rtmpModule: MediaNode.DEFAULT_RTMP_MODULE,
      directory: "/tmp/node",
      host: "127.0.0.1",
      port: 19350,
      app: "live",
      onPublish: "http://127.0.0.1:4000/rtmp/on_publish",
      onPublishDone: "http://127.0.0.1:4000/rtmp/on_publish_done",
      onUpdate: "http://127.0.0.1:4000/rtmp/on_update"
    })
    for (
      const line of [
        "load_module \"/usr/lib/nginx/modules/ngx_rtmp_module.so\";",
        "daemon off;",
        "master_process off;",
        "worker_processes 1;",
        "pid \"/tmp/node/nginx.pid\";",
        "error_log \"/tmp/node/error.log\" info;",
        "access_log \"/tmp/node/access.log\";",
        "listen 127.0.0.1:19350;",
        "application live {",
        "live on;",
        "record off;",
        "on_publish \"http://127.0.0.1:4000/rtmp/on_publish\";",
        "on_publish_done \"http://127.0.0.1:4000/rtmp/on_publish_done\";",
        "on_update \"http://127.0.0.1:4000/rtmp/on_update\";",
        "notify_update_timeout 1s;"
      ]
    ) assert.include(text, line)
    assert.notInclude(text, "/var/", "no system path")
  })

  it.live("runs nginx on a free loopback port until its scope closes, then stops it by its PID and cleans up", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const node = yield* MediaNode.make({ onPublish: "http://127.0.0.1:9/rtmp/on_publish" }).pipe(
        Scope.extend(scope)
      )
      assert.strictEqual(node.host, "127.0.0.1")
      assert.strictEqual(node.url, `rtmp://127.0.0.1:${node.port}/live/`)
      assert.strictEqual(node.onPublishDone, "http://127.0.0.1:9/rtmp/on_publish_done", "beside on_publish")
      assert.strictEqual(node.onUpdate, "http://127.0.0.1:9/rtmp/on_update")
      assert.include(node.config, "notify_update_timeout 1s;")
      assert.deepStrictEqual(node.node, { host: "127.0.0.1", port: node.port, app: "live" })
      assert.isTrue(alive(node.pid))
      assert.isTrue(yield* connects(node.port))
      assert.strictEqual(fs.readFileSync(`${node.directory}/nginx.pid`, "utf8").trim(), String(node.pid))
      assert.strictEqual(fs.readFileSync(`${node.directory}/nginx.conf`, "utf8"), node.config)
      assert.include(yield* node.errorLog, "nginx/")
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(alive(node.pid), "nginx is stopped")
      assert.isFalse(fs.existsSync(node.directory), "its folder is removed")
      assert.isFalse(yield* connects(node.port))
    }))

  it.live("fails naming the Debian package when nginx or the RTMP module is missing", () =>
    Effect.gen(function*() {
      const noModule = yield* Effect.flip(MediaNode.make({ rtmpModule: "/nonexistent/ngx_rtmp_module.so" }))
      assert.strictEqual(noModule.reason, "NotInstalled")
      assert.include(noModule.message, "install the Debian package libnginx-mod-rtmp")
      const noNginx = yield* Effect.flip(MediaNode.make({ nginx: "/nonexistent/nginx" }))
      assert.strictEqual(noNginx.reason, "NotInstalled")
      assert.include(noNginx.message, "/nonexistent/nginx is not an executable file")
    }).pipe(Effect.scoped))

  it.live("reports what nginx -t says about a configuration it refuses", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(MediaNode.make({ rtmpModule: "/etc/hostname" }))
      assert.strictEqual(error.reason, "Config")
      assert.match(error.message, /^MediaNodeError \(Config\): nginx -t refuses .*nginx\.conf: .*\[emerg\].*dlopen\(\)/)
    }).pipe(Effect.scoped))

  it.live("a port already taken is a Start error", () =>
    Effect.acquireUseRelease(
      Effect.async<Net.Server>((resume) => {
        const server = Net.createServer().listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.gen(function*() {
          const port = (server.address() as Net.AddressInfo).port
          const error = yield* Effect.flip(MediaNode.make({ port }))
          assert.strictEqual(error.reason, "Start")
          assert.include(error.message, `127.0.0.1:${port}`)
        }).pipe(Effect.scoped),
      (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    ))

  it.live("refuses options that would not be a loopback node or would break the configuration", () =>
    Effect.gen(function*() {
      for (
        const options of [
          { host: "0.0.0.0" },
          { app: "live; daemon on" },
          { port: 70000 },
          { onPublish: "http://127.0.0.1:1/x; on_play x" },
          { onPublish: "https://example.invalid/x" },
          { onUpdate: "http://127.0.0.1:1/x\"; y" },
          { notifyUpdateTimeout: "100 millis" as const }
        ]
      ) {
        const error = yield* Effect.flip(MediaNode.make(options))
        assert.strictEqual(error.reason, "InvalidOptions", JSON.stringify(options))
      }
    }).pipe(Effect.scoped))
})
