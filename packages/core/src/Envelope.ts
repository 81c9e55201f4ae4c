/**
 * The response envelope every ZEGOCLOUD server API call answers with, whatever the outcome.
 */
import * as Schema from "effect/Schema"

/** `{ Code, Message, RequestId, Data }`; `Message` and `RequestId` default to `""` when the server leaves them out. */
export const Envelope = Schema.Struct({
  Code: Schema.Int,
  Message: Schema.optionalWith(Schema.String, { default: () => "" }),
  RequestId: Schema.optionalWith(Schema.String, { default: () => "" }),
  Data: Schema.optional(Schema.Unknown)
}).annotations({ identifier: "Envelope" })

export type Envelope = typeof Envelope.Type

/** The envelope as JSON text. */
export const EnvelopeFromJson = Schema.parseJson(Envelope)
