import { Signature } from "@effect-zego/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export const SECRET_TEXT = "9193cc662a4c0ec135ec71fb57194b38"

/** A real HTTP server on 127.0.0.1 that answers the documented example response after checking the signature. */
export const exampleServer = Effect.acquireRelease(
  Effect.async<{ baseUrl: string; urls: Array<URL>; connections: () => number; close: () => void }>((resume) => {
    const urls: Array<URL> = []
    let connections = 0
    const server = Http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1")
      urls.push(url)
      const q = Object.fromEntries(url.searchParams)
      const expected = Signature.sign({
        appId: Number(q.AppId),
        nonce: q.SignatureNonce ?? "",
        serverSecret: Redacted.make(SECRET_TEXT),
        timestamp: Number(q.Timestamp)
      })
      const body = q.Signature === expected
        ? {
          Code: 0,
          Message: "ok",
          RequestId: "5094436160208407316",
          Data: ["rtmp://81.69.49.115:1935/1540531164/caodantest"]
        }
        : { Code: 100000005, Message: "signature error", RequestId: "1" }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body))
    })
    server.on("connection", () => connections++)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({
        baseUrl: `http://127.0.0.1:${port}`,
        urls,
        connections: () => connections,
        close: () => server.close()
      }))
    })
  }),
  (server) => Effect.sync(server.close)
)
