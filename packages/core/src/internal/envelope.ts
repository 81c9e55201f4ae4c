/**
 * Reading an answer: the envelope of a body (read directly in its usual shape), the server's clock from `Date`, the
 * error an HTTP status or a body without an envelope amounts to, the code table applied, and `Data` decoded.
 */
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { EnvelopeFromJson } from "../Envelope.js"
import type { Envelope } from "../Envelope.js"
import type { Action } from "../Params.js"
import { fromCode, ResponseDecodeError, TransportError } from "../ZegoError.js"
import type { CommonError, CommonServerError } from "../ZegoError.js"
import { formatIssue } from "./engineOptions.js"

/** An HTTP date as RFC 9110 sends it (IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`. */
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/

const decodeEnvelope = Schema.decodeUnknownEither(EnvelopeFromJson)

/**
 * The envelope of a body. The usual shape (an object whose `Code` is an integer and whose `Message` and `RequestId`
 * are strings or absent) is read directly; anything else goes through the schema, for its exact error.
 */
const readEnvelope = (text: string): Either.Either<Envelope, ParseResult.ParseError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return decodeEnvelope(text)
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return decodeEnvelope(text)
  const { Code, Data, Message, RequestId } = json as Record<string, unknown>
  if (
    typeof Code !== "number" || !Number.isSafeInteger(Code) || (Message !== undefined && typeof Message !== "string") ||
    (RequestId !== undefined && typeof RequestId !== "string")
  ) return decodeEnvelope(text)
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    Code,
    Message: Message ?? "",
    RequestId: RequestId ?? ""
  }
  if ("Data" in json) envelope.Data = Data
  return Either.right(envelope)
}

/** What one HTTP exchange gave: the envelope, the HTTP status and the server's clock from `Date`. */
export interface Exchange {
  readonly envelope: Envelope
  readonly status: number
  readonly serverTimeMillis: number | undefined
}

/** A `ResponseDecodeError` for `Data` that did not decode. */
export const dataError = (action: Action, envelope: Envelope, detail: string): ResponseDecodeError =>
  new ResponseDecodeError({ action, status: 200, requestId: envelope.RequestId, detail })

/** Decodes `Data` with a schema: a value that does not fit is a `ResponseDecodeError`, never a defect. */
export const decodeData = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (action: Action, envelope: Envelope): Either.Either<A, ResponseDecodeError> => {
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = decode(envelope.Data)
    } catch {
      return Either.left(dataError(action, envelope, "Data: could not be read"))
    }
    return Either.mapLeft(decoded, (error) => dataError(action, envelope, `Data: ${formatIssue(error).detail}`))
  }
}

/** Reads a body as the envelope; without one, an HTTP error status is a transport error, anything else a decode error. */
export const interpretBody = (
  action: Action,
  status: number,
  date: string | undefined,
  text: string
): Either.Either<Exchange, TransportError | ResponseDecodeError> => {
  const decoded = readEnvelope(text)
  if (Either.isRight(decoded)) {
    // Only a well-formed HTTP date: `Date.parse` also reads "0" as the year 2000, and much else.
    const serverTime = date === undefined || !HTTP_DATE.test(date) ? NaN : Date.parse(date)
    return Either.right({
      envelope: decoded.right,
      status,
      serverTimeMillis: Number.isNaN(serverTime) ? undefined : serverTime
    })
  }
  if (status >= 400) {
    return Either.left(
      new TransportError({
        action,
        reason: "HttpStatus",
        status,
        detail: `HTTP ${status} without a ZEGOCLOUD envelope`,
        retryable: status >= 500 || status === 408 || status === 429
      })
    )
  }
  return Either.left(
    new ResponseDecodeError({
      action,
      status,
      detail: `the body is not the ZEGOCLOUD envelope: ${formatIssue(decoded.left).detail}`
    })
  )
}

export const failOnCode = (
  action: Action,
  answers: ReadonlyArray<number>,
  envelope: Envelope
): Either.Either<Envelope, CommonError> =>
  envelope.Code === 0 || (answers.length !== 0 && answers.includes(envelope.Code))
    ? Either.right(envelope)
    // Typed as the global table's: a declaration's error type names the classes of its action's own codes.
    : Either.left(
      fromCode({
        code: envelope.Code,
        serverMessage: envelope.Message,
        requestId: envelope.RequestId,
        action
      }) as CommonServerError
    )
