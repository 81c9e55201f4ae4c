/**
 * Opt-in CORS for browser development: a page served from an allowed origin may call the emulator. Without allowed
 * origins the emulator sends no CORS headers at all, so a browser refuses every cross-origin answer, as ZEGOCLOUD's
 * own API is not meant to be called from a browser (a server secret never belongs in one).
 */

/** The methods a page may use: the API is GET, the hooks are nginx's (never a browser's). */
const ALLOWED_METHODS = "GET"

/** How long a browser may reuse a preflight's answer, in seconds. */
const MAX_AGE = "600"

/** Whether `text` is an origin as a browser sends it: `scheme://host[:port]`, nothing more. */
export const isOrigin = (text: string): boolean => {
  try {
    const url = new URL(text)
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === text
  } catch {
    return false
  }
}

export interface Cors {
  /** Whether the request is a preflight the emulator answers itself (never an API call, never rate limited). */
  readonly isPreflight: (method: string, headers: Readonly<Record<string, string | undefined>>) => boolean
  /** The headers of a preflight's answer: empty for an origin not allowed, so the browser refuses the call. */
  readonly preflight: (headers: Readonly<Record<string, string | undefined>>) => Record<string, string>
  /** The headers to add to any other answer: `Access-Control-Allow-Origin` for an allowed origin only. */
  readonly headers: (headers: Readonly<Record<string, string | undefined>>) => Record<string, string>
}

export const make = (origins: ReadonlyArray<string>): Cors => {
  const allowed = new Set(origins)
  const allowedOrigin = (headers: Readonly<Record<string, string | undefined>>) => {
    const origin = headers["origin"]
    return origin !== undefined && allowed.has(origin) ? origin : undefined
  }
  // The answer differs by Origin: a cache must not serve one origin's answer to another.
  const headers = (request: Readonly<Record<string, string | undefined>>): Record<string, string> => {
    if (allowed.size === 0) return {}
    const origin = allowedOrigin(request)
    return origin === undefined
      ? { vary: "Origin" }
      : { "access-control-allow-origin": origin, "access-control-expose-headers": "x-request-id", vary: "Origin" }
  }
  return {
    isPreflight: (method, request) =>
      allowed.size > 0 && method === "OPTIONS" && request["access-control-request-method"] !== undefined,
    preflight: (request) => {
      const origin = allowedOrigin(request)
      if (origin === undefined) return { vary: "Origin" }
      const requested = request["access-control-request-headers"]
      return {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ALLOWED_METHODS,
        // Whatever headers the page asks for: the emulator reads none of them but the query.
        ...(requested === undefined ? {} : { "access-control-allow-headers": requested }),
        "access-control-max-age": MAX_AGE,
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
      }
    },
    headers
  }
}
