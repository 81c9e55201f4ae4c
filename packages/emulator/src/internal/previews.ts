/**
 * Live previews of the streams on the emulator's media nodes, for the dashboard: an ffmpeg plays a stream from its
 * node and remuxes it, copied (`-c copy`, no transcoding), into fragmented MP4 on its stdout, which a plain
 * `<video>` plays as it arrives. One ffmpeg per stream, shared by every viewer of it: a viewer gets the stream's
 * initialization segment (`ftyp` and `moov`), then the fragments from the next one on (each starts at a key frame,
 * `frag_keyframe`), so that a late viewer starts cleanly.
 *
 * Bounded: at most `maxStreams` ffmpegs and `maxViewers` viewers per stream; a viewer that does not keep up (over
 * {@link MAX_BACKLOG} bytes unsent) is cut off; a box over {@link MAX_BOX} bytes stops the preview. An ffmpeg stops
 * when its last viewer leaves, when its stream ends, and with the emulator.
 */
import type { ChildProcess } from "node:child_process"
import type * as Http from "node:http"
import { exited, spawnGuarded, stop } from "./processes.js"

/** The most bytes a viewer may have unsent before it is cut off: a few seconds of a high-bitrate stream. */
export const MAX_BACKLOG = 16 * 1024 * 1024

/** The largest MP4 box accepted from ffmpeg (a fragment of a few seconds). */
export const MAX_BOX = 64 * 1024 * 1024

export interface Options {
  /** The ffmpeg executable. */
  readonly ffmpeg: string
  /** The most streams previewed at once (one ffmpeg each). */
  readonly maxStreams: number
  /** The most viewers of one stream. */
  readonly maxViewers: number
  /** Told when a preview starts or stops, for the log. */
  readonly log: (line: string) => void
}

/** Why a viewer was not taken. */
export type Refusal = "TooManyStreams" | "TooManyViewers"

export interface Previews {
  /**
   * Adds `response` as a viewer of `streamId` (played from `source`, its RTMP URL on a media node): it is answered
   * `200 video/mp4` and streamed to until it closes or the preview stops. A refusal leaves `response` untouched.
   */
  readonly view: (streamId: string, source: string, response: Http.ServerResponse) => Refusal | undefined
  /** A stream ended: its preview stops (nginx-rtmp would keep its player waiting for a new publisher). */
  readonly streamEnded: (streamId: string) => void
  /** How many previews run now. */
  readonly running: () => number
  /** Stops every preview; resolves when every ffmpeg has exited. */
  readonly close: () => Promise<void>
}

interface Viewer {
  readonly response: Http.ServerResponse
  /** Whether it got the initialization segment (then it gets every fragment). */
  started: boolean
}

interface Preview {
  readonly streamId: string
  readonly child: ChildProcess
  readonly viewers: Set<Viewer>
  /** `ftyp` and `moov` once ffmpeg wrote them. */
  init: Buffer | undefined
  initParts: Array<Buffer>
  /** The boxes of the fragment being read (`moof`, then up to its `mdat`). */
  fragment: Array<Buffer>
  /** Bytes read and not yet a whole box. */
  pending: Buffer
}

/** The ffmpeg arguments of a preview: probe briefly, copy, fragmented MP4 (a fragment per key frame) to stdout. */
export const ffmpegArgs = (source: string): ReadonlyArray<string> => [
  "-hide_banner",
  "-nostdin",
  "-loglevel",
  "error",
  "-analyzeduration",
  "1000000",
  "-i",
  source,
  "-c",
  "copy",
  "-f",
  "mp4",
  "-movflags",
  "frag_keyframe+empty_moov+default_base_moof",
  "pipe:1"
]

export const make = (options: Options): Previews => {
  const previews = new Map<string, Preview>()
  const children = new Set<ChildProcess>()

  const end = (preview: Preview, reason: string) => {
    if (previews.get(preview.streamId) !== preview) return
    previews.delete(preview.streamId)
    stop(preview.child)
    for (const viewer of preview.viewers) viewer.response.end()
    preview.viewers.clear()
    options.log(`preview of ${preview.streamId} stopped: ${reason}`)
  }

  const send = (preview: Preview, viewer: Viewer, chunk: Buffer) => {
    if (viewer.response.writableLength > MAX_BACKLOG) {
      preview.viewers.delete(viewer)
      viewer.response.destroy()
      if (preview.viewers.size === 0) end(preview, "its only viewer did not keep up")
      return
    }
    viewer.response.write(chunk)
  }

  /** ffmpeg's output, cut into top-level boxes: the initialization segment, then whole fragments to every viewer. */
  const read = (preview: Preview, chunk: Buffer) => {
    preview.pending = preview.pending.length === 0 ? chunk : Buffer.concat([preview.pending, chunk])
    while (preview.pending.length >= 8) {
      const size = preview.pending.readUInt32BE(0)
      const type = preview.pending.toString("latin1", 4, 8)
      // A 64-bit size (1) or a box to the end of the file (0) never comes from a fragmented MP4 of this size.
      if (size < 8 || size > MAX_BOX) return end(preview, `ffmpeg wrote a box of ${size} bytes`)
      if (preview.pending.length < size) return
      const box = preview.pending.subarray(0, size)
      preview.pending = preview.pending.subarray(size)
      if (preview.init === undefined) {
        preview.initParts.push(Buffer.from(box))
        if (type === "moov") {
          preview.init = Buffer.concat(preview.initParts)
          preview.initParts = []
        } else if (preview.initParts.length > 8) {
          return end(preview, "ffmpeg wrote no moov")
        }
        continue
      }
      if (type === "moof") preview.fragment = []
      preview.fragment.push(Buffer.from(box))
      if (type !== "mdat") continue
      const fragment = Buffer.concat(preview.fragment)
      preview.fragment = []
      for (const viewer of [...preview.viewers]) {
        if (!viewer.started) {
          viewer.started = true
          send(preview, viewer, preview.init)
        }
        send(preview, viewer, fragment)
      }
    }
  }

  const start = (streamId: string, source: string): Preview => {
    const child = spawnGuarded(options.ffmpeg, ffmpegArgs(source), ["ignore", "pipe", "pipe"])
    const preview: Preview = {
      streamId,
      child,
      viewers: new Set(),
      init: undefined,
      initParts: [],
      fragment: [],
      pending: Buffer.alloc(0)
    }
    previews.set(streamId, preview)
    children.add(child)
    let stderr = ""
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-500)))
    child.stdout?.on("data", (chunk: Buffer) => read(preview, chunk))
    child.once("error", (error) => end(preview, `ffmpeg could not start: ${error.message}`))
    child.once("exit", (code, signal) => {
      children.delete(child)
      const words = stderr.trim().split("\n").slice(-2).join("; ")
      end(preview, `ffmpeg exited (${signal ?? `code ${code}`})${words === "" ? "" : `: ${words}`}`)
    })
    options.log(`preview of ${streamId} started (ffmpeg PID ${child.pid})`)
    return preview
  }

  return {
    view: (streamId, source, response) => {
      const existing = previews.get(streamId)
      if (existing === undefined && previews.size >= options.maxStreams) return "TooManyStreams"
      if (existing !== undefined && existing.viewers.size >= options.maxViewers) return "TooManyViewers"
      const preview = existing ?? start(streamId, source)
      const viewer: Viewer = { response, started: false }
      preview.viewers.add(viewer)
      response.writeHead(200, { "content-type": "video/mp4", "cache-control": "no-store" })
      response.once("close", () => {
        preview.viewers.delete(viewer)
        if (preview.viewers.size === 0) end(preview, "no one watches it")
      })
      return undefined
    },
    streamEnded: (streamId) => {
      const preview = previews.get(streamId)
      if (preview !== undefined) end(preview, "the stream ended")
    },
    running: () => previews.size,
    close: async () => {
      for (const preview of [...previews.values()]) end(preview, "the emulator stopped")
      await Promise.all(
        [...children].map((child) =>
          exited(child) ? undefined : new Promise<void>((resolve) => child.once("exit", () => resolve()))
        )
      )
    }
  }
}
