/**
 * The emulator's relays to a CDN (`CreatCDNTransferRule`, `DeleteCDNTransferRule`, `ClearCDNTransferRule`): rules per
 * stream id, each with its CDN URL, which must be on loopback (an emulator never sends media off the machine).
 *
 * A rule on a stream live on a media node (an nginx-rtmp publish the emulator allowed) starts a relay at once: ffmpeg
 * plays the stream from the node and publishes it, copied (`-c copy`), to the rule's URL. A rule made before the
 * stream starts begins when it starts. A relay stops when its rule is deleted (by the same URL) or the stream ends,
 * and then the rule is gone. `ClearCDNTransferRule` drops the rules not yet started; running relays go on, as
 * ZEGOCLOUD documents. Without a media node (simulated publishes only) rules are kept and recorded, and nothing runs.
 *
 * Every rule is recorded (created, started, stopped, and why); the records, the rules and the processes are bounded.
 * The processes are killed when the emulator's scope closes. A record and a log line show the CDN URL masked
 * (`Params.maskCdnUrl`): its stream key is a secret; only ffmpeg is given the URL whole.
 */
import { Params } from "@effect-zego/core"
import type { ChildProcess } from "node:child_process"
import { exited, spawnGuarded, stop } from "./processes.js"
import * as RecordLog from "./recordLog.js"

/** Where a relay is: waiting for its stream, running, or over (stopped, cleared or refused to start). */
export type RelayState = "pending" | "running" | "stopped"

/** A rule and what became of it. Times in milliseconds. */
export interface RelayRecord {
  readonly appId: number
  /** As sent (with its `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
  /** The rule's CDN URL, its stream key masked (`Params.maskCdnUrl`). */
  readonly cdnUrl: string
  readonly state: RelayState
  readonly createdAt: number
  /** The media node's URL of the stream ffmpeg plays, once started. */
  readonly source: string | undefined
  readonly startedAt: number | undefined
  /** ffmpeg's PID while it runs. */
  readonly pid: number | undefined
  readonly stoppedAt: number | undefined
  /** Why it stopped: `DeleteCDNTransferRule`, `ClearCDNTransferRule`, the stream ended, ffmpeg exited, … */
  readonly reason: string | undefined
}

/** Why a CDN URL is refused (5004), or `undefined` when a relay may go there. */
export const refuseUrl = (cdnUrl: string): string | undefined => {
  let url: URL
  try {
    url = new URL(cdnUrl)
  } catch {
    return "CDNUrl is not a URL"
  }
  if (url.protocol !== "rtmp:" && url.protocol !== "rtmps:") return "CDNUrl must be rtmp:// or rtmps://"
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
  if (host !== "127.0.0.1" && host !== "::1" && host !== "localhost") {
    return "the emulator relays only to loopback (127.0.0.1, ::1, localhost): it never sends media off the machine"
  }
  return undefined
}

export interface Options {
  /** The ffmpeg executable. */
  readonly ffmpeg: string
  /** The most rules kept at once (each may run a process). */
  readonly maxRules: number
  /** The most records kept. */
  readonly maxRecords: number
  /** Told of every relay that starts or stops, for the log. */
  readonly log: (line: string) => void
}

export interface Relays {
  /** A rule: started now if its stream is live on a media node. `false`: too many rules already. */
  readonly add: (appId: number, streamId: string, cdnUrl: string, nowMillis: number) => boolean
  /** Deletes a rule (stopping its relay); `false` if there was none with that URL. */
  readonly remove: (streamId: string, cdnUrl: string, nowMillis: number) => boolean
  /** Drops the stream's rules not yet started; how many. */
  readonly clear: (streamId: string, nowMillis: number) => number
  /** A stream went live on a media node: `source` is its RTMP URL there. */
  readonly streamStarted: (streamId: string, source: string, nowMillis: number) => void
  /** A stream ended: its relays stop. */
  readonly streamEnded: (streamId: string, nowMillis: number) => void
  /** Every rule, oldest first (the last `maxRecords`): a snapshot. */
  readonly records: () => ReadonlyArray<RelayRecord>
  /** The rules not over (pending or running, at most `maxRules`): a snapshot. */
  readonly current: () => ReadonlyArray<RelayRecord>
  /** The media node's URL of a stream live there (an nginx-rtmp publish the emulator allowed), if it is. */
  readonly liveSource: (streamId: string) => string | undefined
  /** Stops every relay; resolves when every process has exited. */
  readonly close: () => Promise<void>
}

interface Rule {
  /** The CDN URL whole: the rule's key, and where ffmpeg publishes. */
  readonly url: string
  record: { -readonly [K in keyof RelayRecord]: RelayRecord[K] }
  child: ChildProcess | undefined
  /** The last words of ffmpeg's stderr (its lines with the URL masked), for the record when it exits on its own. */
  stderr: string
  /** A line of ffmpeg's stderr not yet ended: masked once whole (a URL cut in two would not be found). */
  partial: string
}

/** The longest line of ffmpeg's stderr kept until it ends. */
const MAX_STDERR_LINE = 4096

export const make = (options: Options): Relays => {
  /** The rules not over, per stream id, per CDN URL. */
  const rules = new Map<string, Map<string, Rule>>()
  let ruleCount = 0
  /** The streams live on a media node: their source URLs. */
  const live = new Map<string, string>()
  const records = RecordLog.make<Rule["record"]>(options.maxRecords)
  const children = new Set<ChildProcess>()

  const over = (rule: Rule, nowMillis: number, reason: string) => {
    const byUrl = rules.get(rule.record.streamId)
    if (byUrl?.get(rule.url) === rule) {
      byUrl.delete(rule.url)
      ruleCount--
      if (byUrl.size === 0) rules.delete(rule.record.streamId)
    }
    if (rule.record.state === "stopped") return
    const wasRunning = rule.record.state === "running"
    rule.record.state = "stopped"
    rule.record.stoppedAt = nowMillis
    rule.record.reason = reason
    rule.record.pid = undefined
    const child = rule.child
    rule.child = undefined
    if (child !== undefined) stop(child)
    if (wasRunning) {
      options.log(`relay of ${rule.record.streamId} to ${rule.record.cdnUrl} stopped: ${reason}`)
    }
  }

  const start = (rule: Rule, source: string, nowMillis: number) => {
    const args = [
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-i",
      source,
      "-c",
      "copy",
      "-f",
      "flv",
      rule.url
    ]
    rule.record.source = source
    rule.record.startedAt = nowMillis
    let child: ChildProcess
    try {
      child = spawnGuarded(options.ffmpeg, args, ["ignore", "ignore", "pipe"])
    } catch (error) {
      return over(rule, nowMillis, `ffmpeg could not start: ${error instanceof Error ? error.message : String(error)}`)
    }
    rule.child = child
    rule.record.state = "running"
    rule.record.pid = child.pid
    children.add(child)
    const masked = (text: string) => text.replaceAll(rule.url, rule.record.cdnUrl)
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (rule.partial + chunk).split("\n")
      const partial = lines.pop() ?? ""
      // A line longer than any ffmpeg writes is dropped rather than cut (a cut could keep the end of the key).
      rule.partial = partial.length > MAX_STDERR_LINE ? "" : partial
      if (lines.length > 0) rule.stderr = (rule.stderr + masked(lines.join("\n")) + "\n").slice(-500)
    })
    child.once("error", (error) => {
      if (rule.child === child) over(rule, Date.now(), `ffmpeg could not start: ${error.message}`)
    })
    child.once("exit", (code, signal) => {
      children.delete(child)
      if (rule.child !== child) return
      // ffmpeg names the URL it failed to publish to: the record shows it masked.
      const words = (rule.stderr + masked(rule.partial)).trim().split("\n").slice(-2).join("; ")
      over(
        rule,
        Date.now(),
        `ffmpeg exited (${signal ?? `code ${code}`})${words === "" ? "" : `: ${words}`}`
      )
    })
    options.log(`relay of ${rule.record.streamId} to ${rule.record.cdnUrl} started (ffmpeg PID ${child.pid})`)
  }

  return {
    add: (appId, streamId, cdnUrl, nowMillis) => {
      const byUrl = rules.get(streamId)
      // The same rule again: it stands as it is.
      if (byUrl?.has(cdnUrl) === true) return true
      if (ruleCount >= options.maxRules) return false
      const rule: Rule = {
        url: cdnUrl,
        record: {
          appId,
          streamId,
          cdnUrl: Params.maskCdnUrl(cdnUrl),
          state: "pending",
          createdAt: nowMillis,
          source: undefined,
          startedAt: undefined,
          pid: undefined,
          stoppedAt: undefined,
          reason: undefined
        },
        child: undefined,
        stderr: "",
        partial: ""
      }
      rules.set(streamId, (byUrl ?? new Map()).set(cdnUrl, rule))
      ruleCount++
      records.add(rule.record)
      const source = live.get(streamId)
      if (source !== undefined) start(rule, source, nowMillis)
      return true
    },
    remove: (streamId, cdnUrl, nowMillis) => {
      const rule = rules.get(streamId)?.get(cdnUrl)
      if (rule === undefined) return false
      over(
        rule,
        nowMillis,
        rule.record.state === "running" ? "DeleteCDNTransferRule" : "DeleteCDNTransferRule before it started"
      )
      return true
    },
    clear: (streamId, nowMillis) => {
      let dropped = 0
      for (const rule of [...(rules.get(streamId)?.values() ?? [])]) {
        if (rule.record.state !== "pending") continue
        over(rule, nowMillis, "ClearCDNTransferRule before it started")
        dropped++
      }
      return dropped
    },
    streamStarted: (streamId, source, nowMillis) => {
      if (live.has(streamId)) return
      live.set(streamId, source)
      for (const rule of [...(rules.get(streamId)?.values() ?? [])]) {
        if (rule.record.state === "pending") start(rule, source, nowMillis)
      }
    },
    streamEnded: (streamId, nowMillis) => {
      live.delete(streamId)
      for (const rule of [...(rules.get(streamId)?.values() ?? [])]) {
        if (rule.record.state === "running") over(rule, nowMillis, "the stream ended")
      }
    },
    records: () => records.all().map((record) => ({ ...record })),
    current: () => [...rules.values()].flatMap((byUrl) => [...byUrl.values()].map((rule) => ({ ...rule.record }))),
    liveSource: (streamId) => live.get(streamId),
    close: async () => {
      for (const byUrl of [...rules.values()]) {
        for (const rule of [...byUrl.values()]) {
          if (rule.record.state === "running") over(rule, Date.now(), "the emulator stopped")
        }
      }
      await Promise.all([...children].map((child) =>
        exited(child) ? undefined : new Promise<void>((resolve) => {
          child.once("exit", () => resolve())
          setTimeout(() => {
            if (!exited(child)) child.kill("SIGKILL")
          }, 3000).unref()
        })
      ))
    }
  }
}
