import { assert, describe, it } from "@effect/vitest"
import * as NonceCache from "../src/internal/nonceCache.js"

describe("NonceCache", () => {
  it("refuses a replayed nonce, long or short, and tells apart long ones that share a prefix", () => {
    const cache = NonceCache.make(60_000)
    const long = "n".repeat(8000)
    assert.isFalse(cache.seen("1:short", 0))
    assert.isTrue(cache.seen("1:short", 1))
    assert.isFalse(cache.seen(`1:${long}a`, 2))
    assert.isFalse(cache.seen(`1:${long}b`, 3))
    assert.isTrue(cache.seen(`1:${long}a`, 4))
    assert.isFalse(cache.seen(`1:${long}a`, 60_003), "forgotten after the retention time")
  })

  it("keeps at most its capacity, the oldest going first", () => {
    const cache = NonceCache.make(60_000, 2)
    cache.seen("a", 0)
    cache.seen("b", 0)
    cache.seen("c", 0)
    assert.isFalse(cache.seen("a", 1), "a was dropped for c")
    assert.isTrue(cache.seen("c", 1))
  })
})
