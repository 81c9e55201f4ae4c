/**
 * What to do with a dispatched RTMP node: the two fields OBS asks for, an ffmpeg command that publishes a test
 * pattern to a push node, and ffplay / ffmpeg commands that play or record a pull node.
 *
 * Every builder gives a {@link CommandLine} (the program and its argument vector, to spawn without a shell);
 * {@link render} turns one into a line quoted for a POSIX shell, which is what `zego-rtmp dispatch` prints.
 *
 * @since 0.1.0
 */

/**
 * A program and its arguments, unquoted: pass them to `spawn(program, args)` as they are.
 *
 * @since 0.1.0
 * @category models
 */
export interface CommandLine {
  readonly program: string
  readonly args: ReadonlyArray<string>
}

/**
 * The OBS stream settings of an RTMP URL: Server up to and including the last `/`, Stream key the rest.
 *
 * @since 0.1.0
 * @category models
 */
export interface ObsSettings {
  readonly server: string
  readonly streamKey: string
}

/**
 * Splits an RTMP URL into the OBS Server and Stream key fields, as the core's `RtmpNode` does.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.deepStrictEqual(MediaCommands.obsSettings("rtmp://127.0.0.1:1935/live/demo"), {
 *   server: "rtmp://127.0.0.1:1935/live/",
 *   streamKey: "demo"
 * })
 * ```
 *
 * @since 0.1.0
 * @category OBS
 */
export const obsSettings = (url: string): ObsSettings => {
  const split = url.lastIndexOf("/") + 1
  return { server: url.slice(0, split), streamKey: url.slice(split) }
}

/**
 * Options of {@link publish}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PublishOptions {
  /** The test pattern's size, `WIDTHxHEIGHT`. Default `1280x720`. */
  readonly size?: string | undefined
  /** Frames per second; one key frame per second. Default 25. */
  readonly frameRate?: number | undefined
  /** The test tone, in Hz. Default 1000. */
  readonly toneHz?: number | undefined
  /** Stop after this many seconds (`-t`). Default: publish until stopped. */
  readonly durationSeconds?: number | undefined
}

/**
 * ffmpeg publishing a generated test pattern and tone to an RTMP URL, in real time (`-re`), as H.264 + AAC in FLV
 * with a key frame every second: what RTMP servers (ZEGOCLOUD, nginx-rtmp) accept.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * const line = MediaCommands.publish("rtmp://127.0.0.1:1935/live/demo", { durationSeconds: 5 })
 * assert.strictEqual(line.program, "ffmpeg")
 * assert.deepStrictEqual(line.args.slice(-3), ["-f", "flv", "rtmp://127.0.0.1:1935/live/demo"])
 * assert.ok(line.args.includes("-t"))
 * ```
 *
 * @since 0.1.0
 * @category command lines
 */
export const publish = (url: string, options: PublishOptions = {}): CommandLine => {
  const size = options.size ?? "1280x720"
  const frameRate = options.frameRate ?? 25
  const toneHz = options.toneHz ?? 1000
  return {
    program: "ffmpeg",
    args: [
      "-re",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${size}:rate=${frameRate}`,
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=${toneHz}`,
      ...duration(options.durationSeconds),
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-pix_fmt",
      "yuv420p",
      "-g",
      String(frameRate),
      "-c:a",
      "aac",
      "-f",
      "flv",
      url
    ]
  }
}

/**
 * ffplay playing an RTMP URL in a window.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.deepStrictEqual(MediaCommands.play("rtmp://127.0.0.1:1935/live/demo"), {
 *   program: "ffplay",
 *   args: ["rtmp://127.0.0.1:1935/live/demo"]
 * })
 * ```
 *
 * @since 0.1.0
 * @category command lines
 */
export const play = (url: string): CommandLine => ({ program: "ffplay", args: [url] })

/**
 * Options of {@link record}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordOptions {
  /** The output file. Default `<stream name>.flv` in the current directory. */
  readonly output?: string | undefined
  /** Stop after this many seconds (`-t`). Default: until the stream ends. */
  readonly durationSeconds?: number | undefined
  /** Stop after this many video frames (`-frames:v`). Default: until the stream ends. */
  readonly videoFrames?: number | undefined
}

/**
 * ffmpeg pulling an RTMP URL without a window and copying it, untouched, into an FLV file.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * const line = MediaCommands.record("rtmp://127.0.0.1:1935/live/demo", { durationSeconds: 10 })
 * assert.deepStrictEqual(
 *   line.args,
 *   ["-i", "rtmp://127.0.0.1:1935/live/demo", "-t", "10", "-c", "copy", "-f", "flv", "demo.flv"]
 * )
 * ```
 *
 * @since 0.1.0
 * @category command lines
 */
export const record = (url: string, options: RecordOptions = {}): CommandLine => ({
  program: "ffmpeg",
  args: [
    "-i",
    url,
    ...duration(options.durationSeconds),
    ...(options.videoFrames === undefined ? [] : ["-frames:v", String(options.videoFrames)]),
    "-c",
    "copy",
    "-f",
    "flv",
    options.output ?? defaultRecordFile(url)
  ]
})

/**
 * The file {@link record} writes by default: the URL's stream name, reduced to a safe file name, plus `.flv`.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(MediaCommands.defaultRecordFile("rtmp://127.0.0.1:1935/live/demo"), "demo.flv")
 * assert.strictEqual(MediaCommands.defaultRecordFile("rtmp://127.0.0.1:1935/live/a?b"), "a_b.flv")
 * ```
 *
 * @since 0.1.0
 * @category command lines
 */
export const defaultRecordFile = (url: string): string => {
  const name = obsSettings(url).streamKey.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[.-]+/, "")
  return `${name || "stream"}.flv`
}

const duration = (seconds: number | undefined): ReadonlyArray<string> =>
  seconds === undefined ? [] : ["-t", String(seconds)]

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/

/**
 * A word single-quoted for a POSIX shell, whatever it contains (`'` becomes `'\''`).
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(MediaCommands.shellQuote("it's"), "'it'\\''s'")
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const shellQuote = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`

/**
 * A word for a POSIX shell: left bare when no shell treats any of its characters specially, else single-quoted.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(MediaCommands.shellArg("live/demo"), "live/demo")
 * assert.strictEqual(MediaCommands.shellArg("a b"), "'a b'")
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const shellArg = (word: string): string => (SAFE_WORD.test(word) ? word : shellQuote(word))

/**
 * A word of a printed command line: as {@link shellArg}, except that URLs are always quoted, so that one with `?`
 * or `&` stays one word and stands out when copied.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(MediaCommands.shellWord("-re"), "-re")
 * assert.strictEqual(MediaCommands.shellWord("rtmp://127.0.0.1/live/demo"), "'rtmp://127.0.0.1/live/demo'")
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const shellWord = (word: string): string =>
  SAFE_WORD.test(word) && !word.includes("://") ? word : shellQuote(word)

/**
 * A command line for a POSIX shell (sh, bash, zsh): the program and each argument, quoted where needed.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   MediaCommands.render({ program: "ffplay", args: ["-fs", "rtmp://127.0.0.1/live/demo"] }),
 *   "ffplay -fs 'rtmp://127.0.0.1/live/demo'"
 * )
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const render = (command: CommandLine): string => [command.program, ...command.args].map(shellWord).join(" ")

/**
 * The ffmpeg publish command for a push URL, quoted for a POSIX shell.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.ok(MediaCommands.publishCommand("rtmp://127.0.0.1:1935/live/demo").startsWith("ffmpeg -re -f lavfi"))
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const publishCommand = (url: string, options?: PublishOptions): string => render(publish(url, options))

/**
 * The ffplay command for a pull URL, quoted for a POSIX shell.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   MediaCommands.playCommand("rtmp://127.0.0.1:1935/live/demo"),
 *   "ffplay 'rtmp://127.0.0.1:1935/live/demo'"
 * )
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const playCommand = (url: string): string => render(play(url))

/**
 * The ffmpeg record command for a pull URL, quoted for a POSIX shell.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   MediaCommands.recordCommand("rtmp://127.0.0.1:1935/live/demo", { output: "out.flv" }),
 *   "ffmpeg -i 'rtmp://127.0.0.1:1935/live/demo' -c copy -f flv out.flv"
 * )
 * ```
 *
 * @since 0.1.0
 * @category shell
 */
export const recordCommand = (url: string, options?: RecordOptions): string => render(record(url, options))
