/**
 * What the HTTP surfaces' bench shares between its processes (`httpSection.ts`, the client; `httpServer.ts`, the
 * servers; `callbackParts.ts`): the streams, the messages over IPC, and the signed callbacks the client posts.
 */
import { createHash, randomBytes } from "node:crypto"

export type Variant = "ours" | "floor" | "raw"

export type HttpServerMessage =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "stats"; readonly id: number; readonly cpuMicros: number; readonly requests: number }

export type HttpParentMessage = { readonly type: "stats"; readonly id: number }

/** The streams every variant knows at start, and that the clients read and post callbacks for. */
export const STREAMS = 1024
export const streamIdOf = (n: number) => `bench-${n % STREAMS}`
/** The stream id the ingest is authorized for (the canned server's answer is this stream's URL). */
export const INGEST_STREAM = "caodantest"
export const APP_ID = 1540531164

/** One signed callback after another: for each stream in turn a create then a close, each with the next seq. */
export const callbackBodies = (secret: string) => {
  let n = 0
  return () => {
    const streamId = streamIdOf(n)
    const seq = Math.floor(n / STREAMS) + 1
    n++
    const nonce = randomBytes(8).toString("hex")
    const timestamp = String(Math.floor(Date.now() / 1000))
    const now = String(Date.now())
    const common = {
      appid: String(APP_ID),
      timestamp,
      nonce,
      signature: createHash("sha1").update([secret, timestamp, nonce].sort().join("")).digest("hex"),
      stream_id: streamId,
      room_id: "bench-room",
      room_session_id: "858012925204410400",
      stream_seq: String(seq),
      user_id: "bench-user",
      user_name: "bench user",
      stream_sid: "s-1234567890abcdef",
      channel_id: "0"
    }
    return JSON.stringify(
      seq % 2 === 1
        ? {
          ...common,
          event: "stream_create",
          create_time_ms: now,
          rtmp_url: [`rtmp://198.51.100.7/live/${streamId}`],
          stream_attr: "{\"cid\":0}"
        }
        : { ...common, event: "stream_close", type: "0", destroy_timemillis: now }
    )
  }
}
