/**
 * A real HTTP server on 127.0.0.1 for the suite's hostile-server cases, closed with the scope.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/** Serves `handler` on a free loopback port; gives its base URL (`http://127.0.0.1:<port>`). */
export const serve = (handler: Http.RequestListener) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<Http.Server>((resume) => {
        const server = Http.createServer(handler)
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.sync(() => {
          server.closeAllConnections()
          server.close()
        })
    ),
    (server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  )

/** The query parameters of a request. */
export const query = (req: Http.IncomingMessage): URLSearchParams =>
  new URL(req.url ?? "/", "http://127.0.0.1").searchParams
