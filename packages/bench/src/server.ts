/**
 * The loopback server of the benchmarks, run in its own process (`child_process.fork`) so that it does not share
 * the client's event loop. It checks every request as the gateway would (the action parameters, the public
 * parameters and the md5 signature), so that every client is seen to sign properly, and answers the documented
 * success envelope (an invalid request gets `100000005`, which every client counts as a failure).
 *
 * - `canned`: answers at once.
 * - `hold <delayMs>`: holds every answer until the parent sends `release` (or 55 s pass), and answers no sooner
 *   than `delayMs` after the request arrived, so that the parent can measure its memory with every dispatch in
 *   flight.
 *
 * The parent asks for `stats` (requests, invalid requests, CPU time) over IPC; the server exits when the parent
 * goes away.
 */
import { createHash } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

const SUCCESS = JSON.stringify({
  Code: 0,
  Message: "ok",
  RequestId: "5094436160208407316",
  Data: ["rtmp://81.69.49.115:1935/1540531164/caodantest"]
})
const INVALID = JSON.stringify({ Code: 100000005, Message: "invalid signature", RequestId: "0", Data: null })
const MAX_HOLD_MILLIS = 55_000
const SKEW_SECONDS = 600

export type ServerMessage =
  | { readonly type: "listening"; readonly port: number }
  | {
    readonly type: "stats"
    readonly id: number
    readonly received: number
    readonly invalid: number
    readonly held: number
    readonly connections: number
    readonly cpuMicros: number
  }

export type ParentMessage =
  | { readonly type: "stats"; readonly id: number }
  | { readonly type: "release" }

const [mode = "canned", delayText = "0"] = process.argv.slice(2)
const delayMillis = Number(delayText)
const secret = process.env.BENCH_SERVER_SECRET ?? ""

let received = 0
let invalid = 0
let connections = 0
let held: Array<{ readonly res: Http.ServerResponse; readonly body: string; readonly arrived: number }> = []
let holdTimer: NodeJS.Timeout | undefined

const isValid = (url: string | undefined): boolean => {
  const query = url?.indexOf("?") ?? -1
  if (url === undefined || query < 0) return false
  const params = new URLSearchParams(url.slice(query + 1))
  const appId = params.get("AppId")
  const nonce = params.get("SignatureNonce")
  const timestamp = params.get("Timestamp")
  const type = params.get("Type")
  const streamId = params.get("StreamId")
  if (
    params.get("Action") !== "RTMPDispatchV2" || params.get("SignatureVersion") !== "2.0" ||
    appId === null || nonce === null || timestamp === null || streamId === null || !/^[\w-]{1,256}$/.test(streamId) ||
    (type !== "push" && type !== "pull") || !/^\d{1,19}$/.test(params.get("Sequence") ?? "")
  ) return false
  if (Math.abs(Number(timestamp) - Date.now() / 1000) > SKEW_SECONDS) return false
  return params.get("Signature") === createHash("md5").update(appId + nonce + secret + timestamp).digest("hex")
}

const answer = (res: Http.ServerResponse, body: string): void => {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) })
  res.end(body)
}

const release = (): void => {
  if (holdTimer !== undefined) clearTimeout(holdTimer)
  holdTimer = undefined
  const batch = held
  held = []
  const last = batch.reduce((latest, { arrived }) => Math.max(latest, arrived), 0)
  setTimeout(() => {
    for (const { body, res } of batch) answer(res, body)
  }, Math.max(0, last + delayMillis - Date.now()))
}

const server = Http.createServer((req, res) => {
  received++
  const valid = isValid(req.url)
  if (!valid) invalid++
  const body = valid ? SUCCESS : INVALID
  if (mode !== "hold") return answer(res, body)
  held.push({ res, body, arrived: Date.now() })
  holdTimer ??= setTimeout(release, MAX_HOLD_MILLIS)
})
server.on("connection", () => connections++)
server.keepAliveTimeout = 65_000
server.headersTimeout = 66_000

const send = (message: ServerMessage): void => {
  process.send?.(message)
}

process.on("message", (message: ParentMessage) => {
  if (message.type === "release") return release()
  const cpu = process.cpuUsage()
  send({
    type: "stats",
    id: message.id,
    received,
    invalid,
    held: held.length,
    connections,
    cpuMicros: cpu.user + cpu.system
  })
})
process.on("disconnect", () => process.exit(0))

server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  send({ type: "listening", port: (server.address() as AddressInfo).port })
})
