/**
 * Signing: `Signature.sign` against `node:crypto` md5 of the same string, on the same nonces and timestamps,
 * in interleaved rounds. Both must agree on every input before anything is timed.
 */
import { Signature } from "@effect-zego/core"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import { median, round } from "./stats.js"

export interface SigningFigures {
  readonly oursPerSecond: number
  readonly nodeCryptoPerSecond: number
  /** Median over rounds of ours / node:crypto. */
  readonly ratio: number
  /** Random inputs on which `Signature.sign` and `node:crypto` were checked to agree before timing. */
  readonly crossChecked: number
  /** Secrets with a lone surrogate on which the two differ (not judged; see {@link loneSurrogateDifferences}). */
  readonly loneSurrogates: { readonly differ: number; readonly of: number }
  readonly rounds: ReadonlyArray<{ readonly ours: number; readonly nodeCrypto: number }>
}

const INPUTS = 1024
const ALPHABET = ["a", "Z", "0", "-", " ", "é", "中", "😀", "\u0000", "\u007f", "\u0080", "\u07ff", "\u0800", "\uffff"]
const LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud800a", "a\udc00", "\udc00\ud800"]

/**
 * `Signature.sign` against `node:crypto` on random secrets of 0 to 300 characters (ASCII, and well-formed Unicode
 * of 1 to 4 UTF-8 bytes a character), across every md5 block boundary; throws on the first difference.
 */
export const crossCheck = (appId: number): number => {
  let checked = 0
  for (let length = 0; length <= 300; length++) {
    for (let k = 0; k < 8; k++) {
      let secret = ""
      for (let i = 0; i < length; i++) {
        secret += k < 4
          ? String.fromCharCode(32 + Math.floor(Math.random() * 95))
          : ALPHABET[Math.floor(Math.random() * ALPHABET.length)]!
      }
      const nonce = randomBytes(8).toString("hex")
      const timestamp = Math.floor(Math.random() * 4_102_444_800)
      const ours = Signature.sign({ appId, nonce, serverSecret: Redacted.make(secret), timestamp })
      const reference = createHash("md5").update(`${appId}${nonce}${secret}${timestamp}`, "utf8").digest("hex")
      if (ours !== reference) throw new Error(`Signature.sign and node:crypto disagree on a secret of ${length} chars`)
      checked++
    }
  }
  return checked
}

/**
 * Strings with lone surrogates (not well-formed Unicode: no real secret has one) on which `Signature.sign` and
 * `node:crypto` (which, like `TextEncoder`, encodes each as U+FFFD) disagree. Reported, not judged.
 */
export const loneSurrogateDifferences = (appId: number): { readonly differ: number; readonly of: number } => {
  let differ = 0
  for (const secret of LONE_SURROGATES) {
    const nonce = "0011223344556677"
    const ours = Signature.sign({ appId, nonce, serverSecret: Redacted.make(secret), timestamp: 1 })
    const reference = createHash("md5").update(`${appId}${nonce}${secret}1`, "utf8").digest("hex")
    if (ours !== reference) differ++
  }
  return { differ, of: LONE_SURROGATES.length }
}

export const run = (options: {
  readonly appId: number
  readonly secret: string
  readonly rounds: number
  readonly sliceMillis: number
}): SigningFigures => {
  const { appId, secret } = options
  const crossChecked = crossCheck(appId)
  const loneSurrogates = loneSurrogateDifferences(appId)
  const serverSecret = Redacted.make(secret)
  const nonces = Array.from({ length: INPUTS }, () => randomBytes(8).toString("hex"))
  const now = Math.floor(Date.now() / 1000)
  const timestamps = Array.from({ length: INPUTS }, (_, i) => now + i)
  const implementations = {
    ours: (i: number) => Signature.sign({ appId, nonce: nonces[i]!, serverSecret, timestamp: timestamps[i]! }),
    nodeCrypto: (i: number) => createHash("md5").update(`${appId}${nonces[i]!}${secret}${timestamps[i]!}`).digest("hex")
  }
  for (let i = 0; i < INPUTS; i++) {
    if (implementations.ours(i) !== implementations.nodeCrypto(i)) {
      throw new Error(`Signature.sign and node:crypto disagree on input ${i}`)
    }
  }
  let sink = 0
  const perSecond = (sign: (i: number) => string): number => {
    const started = performance.now()
    const deadline = started + options.sliceMillis
    let count = 0
    while (performance.now() < deadline) {
      for (let i = 0; i < INPUTS; i++) sink += sign(i).charCodeAt(i & 31)
      count += INPUTS
    }
    return count / (performance.now() - started) * 1000
  }
  perSecond(implementations.ours)
  perSecond(implementations.nodeCrypto)
  const rounds: Array<{ ours: number; nodeCrypto: number }> = []
  for (let r = 0; r < options.rounds; r++) {
    const first = r % 2 === 0 ? "ours" : "nodeCrypto"
    const second = first === "ours" ? "nodeCrypto" : "ours"
    const figures = { ours: 0, nodeCrypto: 0 }
    figures[first] = perSecond(implementations[first])
    figures[second] = perSecond(implementations[second])
    rounds.push({ ours: round(figures.ours, 0), nodeCrypto: round(figures.nodeCrypto, 0) })
  }
  if (sink === -1) console.log(sink)
  return {
    oursPerSecond: round(median(rounds.map((r) => r.ours)), 0),
    nodeCryptoPerSecond: round(median(rounds.map((r) => r.nodeCrypto)), 0),
    ratio: round(median(rounds.map((r) => r.ours / r.nodeCrypto)), 3),
    crossChecked,
    loneSurrogates,
    rounds
  }
}
