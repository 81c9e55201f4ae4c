/**
 * A duration as a JSON file writes it: milliseconds (`1000`) or Effect's text form (`"1 second"`, `"200 millis"`).
 */
import * as Duration from "effect/Duration"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

export const DurationFromJson = Schema.transformOrFail(
  Schema.Union(Schema.NonNegative, Schema.String),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (input, _, ast) => {
      const duration = Duration.decodeUnknown(input)
      return duration._tag === "Some"
        ? ParseResult.succeed(duration.value)
        : ParseResult.fail(
          new ParseResult.Type(ast, input, `expected milliseconds or a duration such as "1 second", got ${input}`)
        )
    },
    encode: (duration) => ParseResult.succeed(Duration.toMillis(duration))
  }
).annotations({ identifier: "Duration" })

/** The same, and more than zero. */
export const PositiveDurationFromJson = DurationFromJson.pipe(
  Schema.filter((duration) => Duration.greaterThan(duration, Duration.zero), {
    message: () => "expected a duration greater than zero"
  })
)
