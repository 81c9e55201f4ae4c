/** What both Redis services read from the environment: a URL and an optional key prefix. */
import * as Config from "effect/Config"
import * as Option from "effect/Option"

/** `{ url, keyPrefix }` from the two variables (the prefix `undefined` when unset). */
export const urlAndPrefix = (urlVariable: string, prefixVariable: string) =>
  Config.all({
    url: Config.string(urlVariable),
    keyPrefix: Config.option(Config.string(prefixVariable))
  }).pipe(Config.map(({ keyPrefix, url }) => ({ url, keyPrefix: Option.getOrUndefined(keyPrefix) })))
