/**
 * Captures everything a run shows (log lines at every level, span names and attributes, errors), so that a test
 * can search it all for the server secret.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Tracer from "effect/Tracer"

export const makeCapture = () => {
  const texts: Array<string> = []
  const layer = Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, Logger.make((options) => texts.push(Logger.logfmtLogger.log(options)))),
    Logger.minimumLogLevel(LogLevel.All),
    Layer.unwrapEffect(Effect.map(Effect.tracer, (native) =>
      Layer.setTracer(Tracer.make({
        span: (...args) => {
          const span = native.span(...args)
          const end = span.end.bind(span)
          span.end = (endTime, exit) => {
            texts.push(`${span.name} ${JSON.stringify([...span.attributes])}`)
            end(endTime, exit)
          }
          return span
        },
        context: native.context
      }))))
  )
  /** Adds an error (its message, String, JSON) to what is searched. */
  const addError = (error: unknown) => {
    texts.push(
      String(error),
      JSON.stringify(error) ?? "",
      error instanceof Error ? `${error.message} ${error.stack}` : ""
    )
  }
  return { texts, layer, addError }
}
