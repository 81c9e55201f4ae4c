/**
 * Copies of strings cut from a larger one. In V8 a cut of 13 characters or more (`slice`, a regex match, a
 * `URLSearchParams` or `decodeURIComponent` result) may point into its source and keep all of it alive, so a nonce
 * or a stream id kept after a request would keep that request's whole body.
 */

/** `text` as a string of its own, sharing no memory with the string it was cut from. */
export const detach = (text: string): string =>
  // Shorter cuts are copies already. A prefix makes a rope, and slicing the rope copies it into one new string.
  text.length < 13 ? text : (" " + text).slice(1)
