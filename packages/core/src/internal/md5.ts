/**
 * MD5 (RFC 1321) of a string's UTF-8 bytes, in lowercase hex: what the ZEGOCLOUD signature needs, and no more.
 *
 * A signature is one short string (about 70 bytes, two blocks) per call. A general-purpose hash object costs more
 * to set up than the two blocks cost to compress, so this reads ASCII strings straight into one reused word buffer
 * (other strings go through `TextEncoder`) and compresses in straight-line 32-bit integer code (the 64 steps
 * below, with the constants of RFC 1321 section 3.4 written as signed 32-bit integers).
 */

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))
const encoder = new TextEncoder()

/** The padded message as little-endian words, reused from call to call; grown when a longer message comes. */
let w = new Int32Array(32)

/** Bytes as lowercase hex. */
export const bytesToHex = (bytes: Uint8Array): string => {
  let hex = ""
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]!]!
  return hex
}

const hexWord = (word: number): string =>
  HEX[word & 0xff]! + HEX[(word >>> 8) & 0xff]! + HEX[(word >>> 16) & 0xff]! + HEX[word >>> 24]!

/** Makes room for a message of `length` bytes; returns the number of 64-byte blocks. */
const prepare = (length: number): number => {
  const blocks = ((length + 8) >>> 6) + 1
  const size = blocks * 16
  if (w.length < size) w = new Int32Array(size * 2)
  w.fill(0, 0, size)
  return blocks
}

/** Loads `text` as UTF-8 into `w` with MD5's padding and length; returns the number of 64-byte blocks. */
const load = (text: string): number => {
  // ASCII (every signature in practice) is its own UTF-8: copy the char codes, and encode only if one is not.
  let length = text.length
  let blocks = prepare(length)
  let i = 0
  for (; i < length; i++) {
    const code = text.charCodeAt(i)
    if (code > 0x7f) break
    w[i >> 2] = w[i >> 2]! | (code << ((i & 3) << 3))
  }
  if (i < length) {
    const bytes = encoder.encode(text)
    length = bytes.length
    blocks = prepare(length)
    for (i = 0; i < length; i++) w[i >> 2] = w[i >> 2]! | (bytes[i]! << ((i & 3) << 3))
  }
  w[length >> 2] = w[length >> 2]! | (0x80 << ((length & 3) << 3))
  // The length in bits as a 64-bit little-endian integer.
  w[blocks * 16 - 2] = length << 3
  w[blocks * 16 - 1] = Math.floor(length / 0x20000000)
  return blocks
}

/** MD5 of `text` encoded as UTF-8: 32 lowercase hex characters. */
export const md5Hex = (text: string): string => {
  const blocks = load(text)
  const x = w
  let h0 = 1732584193
  let h1 = -271733879
  let h2 = -1732584194
  let h3 = 271733878
  for (let o = 0; o < blocks * 16; o += 16) {
    let a = h0
    let b = h1
    let c = h2
    let d = h3

    a = (a + ((b & c) | (~b & d)) + x[o + 0]! + -680876936) | 0
    a = (((a << 7) | (a >>> 25)) + b) | 0
    d = (d + ((a & b) | (~a & c)) + x[o + 1]! + -389564586) | 0
    d = (((d << 12) | (d >>> 20)) + a) | 0
    c = (c + ((d & a) | (~d & b)) + x[o + 2]! + 606105819) | 0
    c = (((c << 17) | (c >>> 15)) + d) | 0
    b = (b + ((c & d) | (~c & a)) + x[o + 3]! + -1044525330) | 0
    b = (((b << 22) | (b >>> 10)) + c) | 0
    a = (a + ((b & c) | (~b & d)) + x[o + 4]! + -176418897) | 0
    a = (((a << 7) | (a >>> 25)) + b) | 0
    d = (d + ((a & b) | (~a & c)) + x[o + 5]! + 1200080426) | 0
    d = (((d << 12) | (d >>> 20)) + a) | 0
    c = (c + ((d & a) | (~d & b)) + x[o + 6]! + -1473231341) | 0
    c = (((c << 17) | (c >>> 15)) + d) | 0
    b = (b + ((c & d) | (~c & a)) + x[o + 7]! + -45705983) | 0
    b = (((b << 22) | (b >>> 10)) + c) | 0
    a = (a + ((b & c) | (~b & d)) + x[o + 8]! + 1770035416) | 0
    a = (((a << 7) | (a >>> 25)) + b) | 0
    d = (d + ((a & b) | (~a & c)) + x[o + 9]! + -1958414417) | 0
    d = (((d << 12) | (d >>> 20)) + a) | 0
    c = (c + ((d & a) | (~d & b)) + x[o + 10]! + -42063) | 0
    c = (((c << 17) | (c >>> 15)) + d) | 0
    b = (b + ((c & d) | (~c & a)) + x[o + 11]! + -1990404162) | 0
    b = (((b << 22) | (b >>> 10)) + c) | 0
    a = (a + ((b & c) | (~b & d)) + x[o + 12]! + 1804603682) | 0
    a = (((a << 7) | (a >>> 25)) + b) | 0
    d = (d + ((a & b) | (~a & c)) + x[o + 13]! + -40341101) | 0
    d = (((d << 12) | (d >>> 20)) + a) | 0
    c = (c + ((d & a) | (~d & b)) + x[o + 14]! + -1502002290) | 0
    c = (((c << 17) | (c >>> 15)) + d) | 0
    b = (b + ((c & d) | (~c & a)) + x[o + 15]! + 1236535329) | 0
    b = (((b << 22) | (b >>> 10)) + c) | 0

    a = (a + ((b & d) | (c & ~d)) + x[o + 1]! + -165796510) | 0
    a = (((a << 5) | (a >>> 27)) + b) | 0
    d = (d + ((a & c) | (b & ~c)) + x[o + 6]! + -1069501632) | 0
    d = (((d << 9) | (d >>> 23)) + a) | 0
    c = (c + ((d & b) | (a & ~b)) + x[o + 11]! + 643717713) | 0
    c = (((c << 14) | (c >>> 18)) + d) | 0
    b = (b + ((c & a) | (d & ~a)) + x[o + 0]! + -373897302) | 0
    b = (((b << 20) | (b >>> 12)) + c) | 0
    a = (a + ((b & d) | (c & ~d)) + x[o + 5]! + -701558691) | 0
    a = (((a << 5) | (a >>> 27)) + b) | 0
    d = (d + ((a & c) | (b & ~c)) + x[o + 10]! + 38016083) | 0
    d = (((d << 9) | (d >>> 23)) + a) | 0
    c = (c + ((d & b) | (a & ~b)) + x[o + 15]! + -660478335) | 0
    c = (((c << 14) | (c >>> 18)) + d) | 0
    b = (b + ((c & a) | (d & ~a)) + x[o + 4]! + -405537848) | 0
    b = (((b << 20) | (b >>> 12)) + c) | 0
    a = (a + ((b & d) | (c & ~d)) + x[o + 9]! + 568446438) | 0
    a = (((a << 5) | (a >>> 27)) + b) | 0
    d = (d + ((a & c) | (b & ~c)) + x[o + 14]! + -1019803690) | 0
    d = (((d << 9) | (d >>> 23)) + a) | 0
    c = (c + ((d & b) | (a & ~b)) + x[o + 3]! + -187363961) | 0
    c = (((c << 14) | (c >>> 18)) + d) | 0
    b = (b + ((c & a) | (d & ~a)) + x[o + 8]! + 1163531501) | 0
    b = (((b << 20) | (b >>> 12)) + c) | 0
    a = (a + ((b & d) | (c & ~d)) + x[o + 13]! + -1444681467) | 0
    a = (((a << 5) | (a >>> 27)) + b) | 0
    d = (d + ((a & c) | (b & ~c)) + x[o + 2]! + -51403784) | 0
    d = (((d << 9) | (d >>> 23)) + a) | 0
    c = (c + ((d & b) | (a & ~b)) + x[o + 7]! + 1735328473) | 0
    c = (((c << 14) | (c >>> 18)) + d) | 0
    b = (b + ((c & a) | (d & ~a)) + x[o + 12]! + -1926607734) | 0
    b = (((b << 20) | (b >>> 12)) + c) | 0

    a = (a + (b ^ c ^ d) + x[o + 5]! + -378558) | 0
    a = (((a << 4) | (a >>> 28)) + b) | 0
    d = (d + (a ^ b ^ c) + x[o + 8]! + -2022574463) | 0
    d = (((d << 11) | (d >>> 21)) + a) | 0
    c = (c + (d ^ a ^ b) + x[o + 11]! + 1839030562) | 0
    c = (((c << 16) | (c >>> 16)) + d) | 0
    b = (b + (c ^ d ^ a) + x[o + 14]! + -35309556) | 0
    b = (((b << 23) | (b >>> 9)) + c) | 0
    a = (a + (b ^ c ^ d) + x[o + 1]! + -1530992060) | 0
    a = (((a << 4) | (a >>> 28)) + b) | 0
    d = (d + (a ^ b ^ c) + x[o + 4]! + 1272893353) | 0
    d = (((d << 11) | (d >>> 21)) + a) | 0
    c = (c + (d ^ a ^ b) + x[o + 7]! + -155497632) | 0
    c = (((c << 16) | (c >>> 16)) + d) | 0
    b = (b + (c ^ d ^ a) + x[o + 10]! + -1094730640) | 0
    b = (((b << 23) | (b >>> 9)) + c) | 0
    a = (a + (b ^ c ^ d) + x[o + 13]! + 681279174) | 0
    a = (((a << 4) | (a >>> 28)) + b) | 0
    d = (d + (a ^ b ^ c) + x[o + 0]! + -358537222) | 0
    d = (((d << 11) | (d >>> 21)) + a) | 0
    c = (c + (d ^ a ^ b) + x[o + 3]! + -722521979) | 0
    c = (((c << 16) | (c >>> 16)) + d) | 0
    b = (b + (c ^ d ^ a) + x[o + 6]! + 76029189) | 0
    b = (((b << 23) | (b >>> 9)) + c) | 0
    a = (a + (b ^ c ^ d) + x[o + 9]! + -640364487) | 0
    a = (((a << 4) | (a >>> 28)) + b) | 0
    d = (d + (a ^ b ^ c) + x[o + 12]! + -421815835) | 0
    d = (((d << 11) | (d >>> 21)) + a) | 0
    c = (c + (d ^ a ^ b) + x[o + 15]! + 530742520) | 0
    c = (((c << 16) | (c >>> 16)) + d) | 0
    b = (b + (c ^ d ^ a) + x[o + 2]! + -995338651) | 0
    b = (((b << 23) | (b >>> 9)) + c) | 0

    a = (a + (c ^ (b | ~d)) + x[o + 0]! + -198630844) | 0
    a = (((a << 6) | (a >>> 26)) + b) | 0
    d = (d + (b ^ (a | ~c)) + x[o + 7]! + 1126891415) | 0
    d = (((d << 10) | (d >>> 22)) + a) | 0
    c = (c + (a ^ (d | ~b)) + x[o + 14]! + -1416354905) | 0
    c = (((c << 15) | (c >>> 17)) + d) | 0
    b = (b + (d ^ (c | ~a)) + x[o + 5]! + -57434055) | 0
    b = (((b << 21) | (b >>> 11)) + c) | 0
    a = (a + (c ^ (b | ~d)) + x[o + 12]! + 1700485571) | 0
    a = (((a << 6) | (a >>> 26)) + b) | 0
    d = (d + (b ^ (a | ~c)) + x[o + 3]! + -1894986606) | 0
    d = (((d << 10) | (d >>> 22)) + a) | 0
    c = (c + (a ^ (d | ~b)) + x[o + 10]! + -1051523) | 0
    c = (((c << 15) | (c >>> 17)) + d) | 0
    b = (b + (d ^ (c | ~a)) + x[o + 1]! + -2054922799) | 0
    b = (((b << 21) | (b >>> 11)) + c) | 0
    a = (a + (c ^ (b | ~d)) + x[o + 8]! + 1873313359) | 0
    a = (((a << 6) | (a >>> 26)) + b) | 0
    d = (d + (b ^ (a | ~c)) + x[o + 15]! + -30611744) | 0
    d = (((d << 10) | (d >>> 22)) + a) | 0
    c = (c + (a ^ (d | ~b)) + x[o + 6]! + -1560198380) | 0
    c = (((c << 15) | (c >>> 17)) + d) | 0
    b = (b + (d ^ (c | ~a)) + x[o + 13]! + 1309151649) | 0
    b = (((b << 21) | (b >>> 11)) + c) | 0
    a = (a + (c ^ (b | ~d)) + x[o + 4]! + -145523070) | 0
    a = (((a << 6) | (a >>> 26)) + b) | 0
    d = (d + (b ^ (a | ~c)) + x[o + 11]! + -1120210379) | 0
    d = (((d << 10) | (d >>> 22)) + a) | 0
    c = (c + (a ^ (d | ~b)) + x[o + 2]! + 718787259) | 0
    c = (((c << 15) | (c >>> 17)) + d) | 0
    b = (b + (d ^ (c | ~a)) + x[o + 9]! + -343485551) | 0
    b = (((b << 21) | (b >>> 11)) + c) | 0

    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
  }
  return hexWord(h0) + hexWord(h1) + hexWord(h2) + hexWord(h3)
}
