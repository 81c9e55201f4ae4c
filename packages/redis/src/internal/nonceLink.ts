/**
 * How a Redis nonce store keys its nonces, kept beside the store, so that a Redis tracker store on the same Redis can
 * commit a callback's nonce within its own write (one script, one round trip) for a delivery of that store.
 */
import type { CallbackNonceStore } from "@effect-zego/core"

export interface NonceLink {
  /** The Redis URL the nonce store was made with: a tracker store commits its nonces only when made with the same. */
  readonly url: string
  /** The key of `nonce`. */
  readonly keyOf: (nonce: string) => string
}

const links = new WeakMap<CallbackNonceStore.NonceStore, NonceLink>()

export const link = (store: CallbackNonceStore.NonceStore, nonceLink: NonceLink): void => {
  links.set(store, nonceLink)
}

/** The link of a Redis nonce store; `undefined` for any other store (a wrapper of one included). */
export const linkOf = (store: CallbackNonceStore.NonceStore): NonceLink | undefined => links.get(store)

/** The value of an applied nonce's key; a claim's is `p:` and its token. */
export const APPLIED = "a"
