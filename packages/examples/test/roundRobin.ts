/**
 * A load balancer of the tests' own, on loopback: each request goes to the next instance in turn, and an instance
 * that does not answer (dead, or reset mid-request) gets its caller a 502, as nginx answers a POST it does not retry.
 * It records what it forwarded, so that a test can tell which instance took a callback, and replay one.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type * as Net from "node:net"

/** One request forwarded: to which instance, what it was, and the status it got (502: no answer). */
export interface Forwarded {
  readonly instance: number
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  readonly status: number
}

export interface RoundRobin {
  readonly url: string
  /** What was forwarded so far, oldest first. */
  readonly forwarded: () => ReadonlyArray<Forwarded>
  /**
   * Once: when a request whose body satisfies `matches` has been written to its instance, calls `then` with that
   * instance's index, before any answer: to kill the instance with the request in its hands.
   */
  readonly onNextForward: (matches: (body: string) => boolean, then: (instance: number) => void) => void
}

/** Callbacks are small: a body past this is refused rather than held. */
const MAX_BODY = 1024 * 1024

export const roundRobin = (ports: ReadonlyArray<number>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly balancer: RoundRobin; readonly server: Http.Server }>((resume) => {
      const forwarded: Array<Forwarded> = []
      let next = 0
      let hook: { matches: (body: string) => boolean; then: (instance: number) => void } | undefined
      const server = Http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        let size = 0
        request.on("data", (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_BODY) request.destroy()
          else chunks.push(chunk)
        })
        request.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          const instance = next++ % ports.length
          let answered = false
          const answer = (status: number, contentType: string, payload: Buffer | string) => {
            if (answered) return
            answered = true
            forwarded.push({ instance, path: request.url ?? "/", headers: request.headers, body, status })
            response.writeHead(status, { "content-type": contentType })
            response.end(payload)
          }
          const noAnswer = () => answer(502, "application/json", JSON.stringify({ error: "BadGateway" }))
          const upstream = Http.request({
            host: "127.0.0.1",
            port: ports[instance],
            method: request.method,
            path: request.url,
            headers: { ...request.headers, connection: "close" },
            agent: false
          }, (reply) => {
            const parts: Array<Buffer> = []
            reply.on("data", (chunk: Buffer) => parts.push(chunk))
            reply.on("end", () =>
              answer(reply.statusCode ?? 502, reply.headers["content-type"] ?? "text/plain", Buffer.concat(parts)))
            reply.on("error", noAnswer)
            reply.on("close", () =>
              reply.complete || noAnswer())
          })
          upstream.on("error", noAnswer)
          upstream.end(body, () => {
            const armed = hook
            if (armed !== undefined && armed.matches(body)) {
              hook = undefined
              armed.then(instance)
            }
          })
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          server,
          balancer: {
            url: `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}`,
            forwarded: () => [...forwarded],
            onNextForward: (matches, then) => {
              hook = { matches, then }
            }
          }
        })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ balancer }) => balancer))
