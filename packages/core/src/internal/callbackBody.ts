/**
 * A callback's body (JSON, URL-encoded JSON or a form) into its fields, every value as its exact text: the parsing
 * behind `CallbackReceiver.parse`.
 */
import * as Either from "effect/Either"
import { MAX_DEPTH, MAX_FIELDS, MAX_VALUES } from "../Callback.js"
import type { Fields } from "../Callback.js"
import { CallbackDecodeError } from "../CallbackError.js"
import type { Incoming, ParseOptions } from "../CallbackReceiver.js"
import { utf8Bytes } from "../Params.js"
import { detach } from "./detach.js"
import * as LosslessJson from "./losslessJson.js"

/** The default of `ParseOptions.maxBodyBytes` (public as `CallbackReceiver.DEFAULT_MAX_BODY_BYTES`). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024

const decodeError = (reason: string) => new CallbackDecodeError({ reason })

const JSON_LIMITS: LosslessJson.Limits = { maxDepth: MAX_DEPTH, maxValues: MAX_VALUES }

const bodyText = (body: string | Uint8Array, maxBytes: number): Either.Either<string, CallbackDecodeError> => {
  const tooLarge = () => Either.left(decodeError(`the body is larger than ${maxBytes} bytes`))
  if (typeof body === "string") {
    // A string's UTF-8 form is at least as long as it, and at most three times.
    if (body.length > maxBytes || (body.length * 3 > maxBytes && utf8Bytes(body) > maxBytes)) return tooLarge()
    return Either.right(body)
  }
  if (!(body instanceof Uint8Array)) return Either.left(decodeError("the body must be a string or a Uint8Array"))
  if (body.byteLength > maxBytes) return tooLarge()
  try {
    return Either.right(new TextDecoder("utf-8", { fatal: true }).decode(body))
  } catch {
    return Either.left(decodeError("the body is not valid UTF-8"))
  }
}

/** The fields of a list key (`rtmp_url[]` → `rtmp_url`). */
const fieldName = (key: string): { readonly name: string; readonly list: boolean } =>
  key.endsWith("[]") ? { name: key.slice(0, -2), list: true } : { name: key, list: false }

/** A value's text, copied out of the body (a field outlives the request: see `detach`). */
const textOf = (value: LosslessJson.Value): string =>
  detach(value._tag === "Array" || value._tag === "Object" ? value.source : value.text)

/**
 * How many `:` stand outside strings (in an object of strings and lists of strings, one per member), for a text
 * `JSON.parse` took. From string to string by `indexOf`: a quote preceded by an odd run of backslashes is escaped.
 */
const membersIn = (text: string): number => {
  let count = 0
  let pos = 0
  while (true) {
    const open = text.indexOf("\"", pos)
    const outside = open < 0 ? text.length : open
    for (let i = pos; i < outside; i++) if (text.charCodeAt(i) === 0x3a) count++
    if (open < 0) return count
    let close = text.indexOf("\"", open + 1)
    while (close > 0) {
      let slashes = 0
      while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++
      if (slashes % 2 === 0) break
      close = text.indexOf("\"", close + 1)
    }
    if (close < 0) return count
    pos = close + 1
  }
}

/**
 * The fields by `JSON.parse`, when the body is what ZEGOCLOUD's stream callbacks are: an object whose values are
 * strings or lists of strings, no key twice (counted in the text: `JSON.parse` keeps the last of two). Those fields
 * are exactly the lossless parser's, in the same order (a record lists array-index keys first either way): no number
 * to keep whole, the depth 2 at most, the values counted below. Anything else is left to it (`undefined`), so that
 * what is refused, and why, is its decision alone.
 */
const fastFields = (text: string): Fields | undefined => {
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) return undefined
  const object = root as Record<string, unknown>
  const keys = Object.keys(object)
  if (keys.length > MAX_FIELDS || keys.length !== membersIn(text)) return undefined
  const fields: Record<string, string | ReadonlyArray<string>> = Object.create(null)
  let values = 1
  for (const key of keys) {
    const value = object[key]
    const { list, name } = fieldName(key)
    if (Object.hasOwn(fields, name)) return undefined
    if (typeof value === "string") {
      values++
      fields[name] = list ? [detach(value)] : detach(value)
    } else if (Array.isArray(value)) {
      values += 1 + value.length
      if (values > MAX_VALUES) return undefined
      const items: Array<string> = []
      for (const item of value) {
        if (typeof item !== "string") return undefined
        items.push(detach(item))
      }
      fields[name] = items
    } else return undefined
  }
  return values > MAX_VALUES ? undefined : fields
}

const fromJson = (text: string): Either.Either<Fields, CallbackDecodeError> => {
  const fast = fastFields(text)
  if (fast !== undefined) return Either.right(fast)
  const parsed = LosslessJson.parse(text, JSON_LIMITS)
  if (Either.isLeft(parsed)) return Either.left(decodeError(`the body is not valid JSON: ${parsed.left}`))
  const root = parsed.right
  if (root._tag !== "Object") return Either.left(decodeError("the body is not a JSON object"))
  if (root.members.size > MAX_FIELDS) return Either.left(decodeError(`the body has more than ${MAX_FIELDS} fields`))
  const fields: Record<string, string | ReadonlyArray<string>> = Object.create(null)
  let position = 0
  for (const [key, value] of root.members) {
    position++
    const { list, name } = fieldName(key)
    // Named by its position: an error never carries the body's text.
    if (Object.hasOwn(fields, name)) {
      return Either.left(decodeError(`field ${position} repeats an earlier field's name (one with [], one without)`))
    }
    fields[name] = value._tag === "Array" ? value.items.map(textOf) : list ? [textOf(value)] : textOf(value)
  }
  return Either.right(fields)
}

const fromForm = (text: string): Either.Either<Fields, CallbackDecodeError> => {
  const fields: Record<string, string | Array<string>> = Object.create(null)
  let count = 0
  let names = 0
  for (const [key, cut] of new URLSearchParams(text)) {
    if (++count > MAX_VALUES) return Either.left(decodeError(`the form has more than ${MAX_VALUES} values`))
    const { list, name } = fieldName(key)
    // A value is cut from the body and may outlive the request; a key becomes a property name, which is a copy.
    const value = detach(cut)
    const seen = fields[name]
    if (seen === undefined) {
      if (++names > MAX_FIELDS) return Either.left(decodeError(`the form has more than ${MAX_FIELDS} fields`))
      fields[name] = list ? [value] : value
    } else if (typeof seen === "string") fields[name] = [seen, value]
    else seen.push(value)
  }
  return Either.right(fields)
}

const FORM = /^[^=&]*=/
const JSON_WHITESPACE = /^[ \t\n\r]*/

/** The body's fields, or why it is not a callback; never throws (see `CallbackReceiver.parse`). */
export const parse = (incoming: Incoming, options?: ParseOptions): Either.Either<Fields, CallbackDecodeError> => {
  try {
    const maxBytes = options?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    const text = bodyText(incoming.body, maxBytes)
    if (Either.isLeft(text)) return Either.left(text.left)
    const start = text.right.replace(JSON_WHITESPACE, "")
    if (start.startsWith("{")) return fromJson(start)
    if (/^%7b/i.test(start)) {
      // The docs say to URL-decode the body: an encoder may have written spaces as `+` (a `+` itself is `%2B`).
      let decoded: string
      try {
        decoded = decodeURIComponent(start.replace(/\+/g, " "))
      } catch {
        return Either.left(decodeError("the body is not valid URL-encoded JSON"))
      }
      return fromJson(decoded)
    }
    const type = (incoming.contentType ?? "").split(";")[0]!.trim().toLowerCase()
    if (type === "application/x-www-form-urlencoded" || FORM.test(start)) return fromForm(text.right)
    return Either.left(decodeError("the body is neither a JSON object nor a form"))
  } catch {
    // An `incoming` whose getters throw is a refused body, not a defect.
    return Either.left(decodeError("the body could not be read"))
  }
}
