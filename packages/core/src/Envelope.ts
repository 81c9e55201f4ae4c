/**
 * The response envelope every ZEGOCLOUD server API call answers with, whatever the outcome.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `{ Code, Message, RequestId, Data }`; `Message` and `RequestId` default to `""` when the server leaves them out.
 *
 * @example
 * ```ts
 * import { Envelope } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const envelope = Schema.decodeUnknownSync(Envelope.Envelope)({ Code: 0 })
 * assert.deepStrictEqual(envelope, { Code: 0, Message: "", RequestId: "" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = Schema.Struct({
  Code: Schema.Int,
  Message: Schema.optionalWith(Schema.String, { default: () => "" }),
  RequestId: Schema.optionalWith(Schema.String, { default: () => "" }),
  Data: Schema.optional(Schema.Unknown)
}).annotations({ identifier: "Envelope" })

/**
 * A decoded envelope.
 *
 * @since 0.1.0
 * @category models
 */
export type Envelope = typeof Envelope.Type

/**
 * The envelope as JSON text.
 *
 * @example
 * ```ts
 * import { Envelope } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const envelope = Schema.decodeSync(Envelope.EnvelopeFromJson)(`{"Code":0,"RequestId":"r1","Data":[]}`)
 * assert.strictEqual(envelope.RequestId, "r1")
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const EnvelopeFromJson = Schema.parseJson(Envelope)
