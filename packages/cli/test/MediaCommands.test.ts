import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { execFileSync } from "node:child_process"
import * as MediaCommands from "../src/MediaCommands.js"

const URL = "rtmp://81.69.49.115:1935/1540531164/caodantest"

/** What `sh` passes to a program for a rendered command line: its arguments, one by one. */
const shellArgv = (line: string): ReadonlyArray<string> => {
  const out = execFileSync("sh", ["-c", `set -- ${line}; for arg; do printf '%s\\0' "$arg"; done`], {
    encoding: "utf8"
  })
  return out.split("\0").slice(0, -1)
}

describe("MediaCommands", () => {
  it("splits a URL into the OBS Server and Stream key at the last /", () => {
    assert.deepStrictEqual(MediaCommands.obsSettings(URL), {
      server: "rtmp://81.69.49.115:1935/1540531164/",
      streamKey: "caodantest"
    })
  })

  it("publishes a real-time H.264 + AAC test pattern in FLV, the URL quoted", () => {
    assert.strictEqual(
      MediaCommands.publishCommand(URL),
      "ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=1000 -c:v libx264 " +
        `-preset veryfast -pix_fmt yuv420p -g 25 -c:a aac -f flv '${URL}'`
    )
    const { args, program } = MediaCommands.publish(URL, { size: "640x360", frameRate: 30, durationSeconds: 5 })
    assert.strictEqual(program, "ffmpeg")
    assert.strictEqual(args.at(-1), URL)
    assert.include(args.join(" "), "testsrc2=size=640x360:rate=30")
    assert.include(args.join(" "), "-t 5 ")
    assert.include(args.join(" "), "-g 30 ")
  })

  it("plays with ffplay and records with ffmpeg into <stream name>.flv", () => {
    assert.strictEqual(MediaCommands.playCommand(URL), `ffplay '${URL}'`)
    assert.strictEqual(MediaCommands.recordCommand(URL), `ffmpeg -i '${URL}' -c copy -f flv caodantest.flv`)
    assert.strictEqual(
      MediaCommands.recordCommand(URL, { output: "my file.flv", durationSeconds: 10 }),
      `ffmpeg -i '${URL}' -t 10 -c copy -f flv 'my file.flv'`
    )
    assert.strictEqual(
      MediaCommands.recordCommand(URL, { output: "out.flv", videoFrames: 60 }),
      `ffmpeg -i '${URL}' -frames:v 60 -c copy -f flv out.flv`
    )
    assert.strictEqual(MediaCommands.defaultRecordFile("rtmp://h/app/../x;rm -rf"), "x_rm_-rf.flv")
    assert.strictEqual(MediaCommands.defaultRecordFile("rtmp://h/app/"), "stream.flv")
  })

  it("quotes for a POSIX shell: sh hands the program exactly the arguments built", () => {
    const tricky = [
      URL,
      "rtmp://h:1935/app/s?token=a&b=c d",
      "it's",
      "'",
      "",
      "$HOME `id` $(id) \\ \" ; | & > < * ? [a] ~ # !",
      "tab\tnew\nline",
      "-flag",
      "ünï©ødé"
    ]
    assert.deepStrictEqual(shellArgv(MediaCommands.render({ program: "x", args: tricky }).slice(2)), tricky)
  })

  it("quotes any string so that sh reads it back unchanged (property)", () => {
    const samples = FastCheck.sample(
      FastCheck.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
      200
    )
    const line = samples.map(MediaCommands.shellWord).join(" ")
    assert.deepStrictEqual(shellArgv(line), samples)
    assert.deepStrictEqual(shellArgv(samples.map(MediaCommands.shellArg).join(" ")), samples)
  })

  it("leaves plain words bare and always quotes URLs", () => {
    assert.strictEqual(MediaCommands.shellWord("-c:v"), "-c:v")
    assert.strictEqual(MediaCommands.shellWord("testsrc2=size=1280x720:rate=25"), "testsrc2=size=1280x720:rate=25")
    assert.strictEqual(MediaCommands.shellWord(URL), `'${URL}'`)
    assert.strictEqual(MediaCommands.shellArg("http://127.0.0.1:4000"), "http://127.0.0.1:4000")
    assert.strictEqual(MediaCommands.shellQuote("it's"), "'it'\\''s'")
  })
})
