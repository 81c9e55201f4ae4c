/**
 * The dashboard page's script: it follows the emulator's snapshots (server-sent events on `/events`) and shows them,
 * plays each active stream's preview in a muted `<video>`, and forbids or resumes a stream. Plain DOM, no framework.
 *
 * Everything the server sends is shown as text (`textContent`, `setAttribute` on inert attributes), never parsed as
 * HTML: a stream id such as `<script>` shows as those characters. Stream cards are kept by stream id and updated in
 * place, so that a playing preview and the keyboard focus survive each update.
 *
 * Bundled by scripts/bundle-dashboard.mjs into src/internal/dashboardAssets.ts.
 */
import type { CallbackView, Snapshot, StreamView } from "../src/internal/dashboardView.js"
import type { CallSummary } from "../src/internal/httpApi.js"

const token = new URLSearchParams(location.search).get("token") ?? ""

const byId = <E extends HTMLElement>(id: string): E => document.getElementById(id) as E

/** An element with a class and children; strings become text nodes (never HTML). */
const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  ...children: ReadonlyArray<Node | string>
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  if (className !== undefined) element.className = className
  element.append(...children)
  return element
}

/** A time of the emulator's clock, as a `<time>`. */
const time = (millis: number): HTMLTimeElement => {
  const date = new Date(millis)
  const element = h("time", undefined, date.toLocaleTimeString())
  element.dateTime = date.toISOString()
  return element
}

/** Says something to the user (and to a screen reader). */
const notify = (text: string) => {
  const notice = byId("notice")
  notice.textContent = text
  notice.hidden = false
}

/** A `<code>` with a button that copies its text. */
const copyable = (label: string): { readonly root: HTMLElement; readonly set: (value: string | undefined) => void } => {
  const code = h("code")
  const button = h("button", "copy", "Copy")
  button.type = "button"
  button.setAttribute("aria-label", `Copy the ${label}`)
  button.addEventListener("click", () => {
    const text = code.textContent ?? ""
    navigator.clipboard.writeText(text).then(
      () => notify(`Copied the ${label}.`),
      () => {
        // No clipboard (a page not allowed to write it): select the text for Ctrl-C.
        getSelection()?.selectAllChildren(code)
        notify(`Select and copy the ${label}: the browser refused the clipboard.`)
      }
    )
  })
  return {
    root: h("span", "copyable", code, " ", button),
    set: (value) => {
      code.textContent = value ?? "—"
      button.disabled = value === undefined
    }
  }
}

/** A stream's card, kept while its stream is shown. */
interface Card {
  readonly root: HTMLElement
  readonly state: HTMLElement
  readonly since: HTMLElement
  readonly url: HTMLElement
  readonly server: ReturnType<typeof copyable>
  readonly key: ReturnType<typeof copyable>
  readonly relays: HTMLElement
  readonly figure: HTMLElement
  readonly caption: HTMLElement
  readonly action: HTMLButtonElement
  video: HTMLVideoElement | undefined
  /** Which publish the video plays (a new publish gets a new video). */
  videoKey: string | undefined
  last: StreamView
}

const cards = new Map<string, Card>()
let cardNumber = 0

const STATE_WORDS: Record<StreamView["state"], string> = {
  active: "active",
  dispatched: "dispatched, waiting for a publisher",
  forbidden: "forbidden",
  closed: "closed"
}

const act = async (card: Card) => {
  const forbid = card.last.state !== "forbidden"
  card.action.disabled = true
  try {
    const response = await fetch(forbid ? "/api/forbid" : "/api/resume", {
      method: "POST",
      headers: { "content-type": "application/json", "x-dashboard-token": token },
      body: JSON.stringify({ streamId: card.last.streamId })
    })
    const answer = await response.json() as { readonly error?: string }
    notify(
      response.ok
        ? `${forbid ? "Forbade" : "Resumed"} stream ${card.last.streamId}.`
        : `Refused: ${answer.error ?? response.status}`
    )
  } catch (error) {
    notify(`The emulator did not answer: ${String(error)}`)
  } finally {
    card.action.disabled = false
  }
}

const makeCard = (stream: StreamView): Card => {
  const titleId = `stream-${++cardNumber}`
  const state = h("span", "state")
  const title = h("h3", undefined, h("span", "stream-id", stream.streamId), " ", state)
  title.id = titleId
  const since = h("dd")
  const url = h("code")
  const server = copyable("OBS Server")
  const key = copyable("Stream key")
  const relays = h("dd")
  const caption = h("figcaption")
  const figure = h("figure", "preview", caption)
  const action = h("button", "action")
  action.type = "button"
  const details = h(
    "dl",
    undefined,
    h("dt", undefined, "Since"),
    since,
    h("dt", undefined, "Push URL"),
    h("dd", undefined, url),
    h("dt", undefined, "OBS Server"),
    h("dd", undefined, server.root),
    h("dt", undefined, "Stream key"),
    h("dd", undefined, key.root),
    h("dt", undefined, "Relays"),
    relays
  )
  const root = h("article", "stream", title, h("div", "body", details, figure), action)
  root.setAttribute("aria-labelledby", titleId)
  root.dataset.streamId = stream.streamId
  const card: Card = {
    root,
    state,
    since,
    url,
    server,
    key,
    relays,
    figure,
    caption,
    action,
    video: undefined,
    videoKey: undefined,
    last: stream
  }
  action.addEventListener("click", () => void act(card))
  return card
}

const stopVideo = (card: Card) => {
  if (card.video === undefined) return
  // Dropping the source ends the download, so that the emulator stops the preview when no one watches.
  card.video.removeAttribute("src")
  card.video.load()
  card.video.remove()
  card.video = undefined
  card.videoKey = undefined
}

/** Plays (or stops) the preview of a card's stream. A preview that ends while its stream goes on starts again. */
const renderPreview = (card: Card, stream: StreamView, attempt = 0) => {
  if (!stream.preview) {
    stopVideo(card)
    card.caption.textContent = stream.state === "active"
      ? "No preview: the stream is not live on a media node of this machine."
      : "No preview: the stream is not active."
    return
  }
  const key = `${stream.createdAt ?? 0}:${attempt}`
  if (card.videoKey !== undefined && card.videoKey.startsWith(`${stream.createdAt ?? 0}:`)) return
  stopVideo(card)
  const video = h("video")
  video.muted = true
  video.defaultMuted = true
  video.autoplay = true
  video.playsInline = true
  video.controls = true
  video.setAttribute("aria-label", `Live preview of stream ${stream.streamId}`)
  video.src = `/preview/${encodeURIComponent(stream.streamId)}?token=${encodeURIComponent(token)}&publish=${key}`
  const retry = () => {
    if (card.video !== video) return
    card.videoKey = undefined
    // 2, 4, 8, … 30 seconds: a preview that cannot start (no ffmpeg) is not asked for again and again.
    setTimeout(() => {
      if (card.video === video && card.last.preview) renderPreview(card, card.last, attempt + 1)
    }, Math.min(2000 * 2 ** attempt, 30_000))
  }
  video.addEventListener("error", retry)
  video.addEventListener("ended", retry)
  card.figure.prepend(video)
  card.video = video
  card.videoKey = key
  card.caption.textContent = "Live preview from the media node (muted; it starts at the next key frame)."
  void video.play().catch(() => {})
}

const renderStream = (card: Card, stream: StreamView) => {
  card.last = stream
  card.root.dataset.state = stream.state
  card.state.textContent = STATE_WORDS[stream.state]
  card.state.className = `state badge ${stream.state}`
  card.since.replaceChildren(time(stream.since))
  card.url.textContent = stream.push?.url ?? "not dispatched for push (within the last dispatches)"
  card.server.set(stream.push?.obsServer)
  card.key.set(stream.push?.obsStreamKey)
  card.relays.replaceChildren(
    stream.relays.length === 0
      ? "none"
      : h(
        "ul",
        undefined,
        ...stream.relays.map((relay) => h("li", undefined, `${relay.state}: `, h("code", undefined, relay.cdnUrl)))
      )
  )
  const forbidden = stream.state === "forbidden"
  card.action.textContent = forbidden ? "Resume" : "Forbid"
  card.action.setAttribute("aria-label", `${forbidden ? "Resume" : "Forbid"} stream ${stream.streamId}`)
  renderPreview(card, stream)
}

const renderStreams = (streams: ReadonlyArray<StreamView>) => {
  const list = byId("streams")
  const shown = new Set(streams.map((stream) => stream.streamId))
  for (const [streamId, card] of cards) {
    if (shown.has(streamId)) continue
    stopVideo(card)
    card.root.remove()
    cards.delete(streamId)
  }
  let previous: Element | null = null
  for (const stream of streams) {
    let card = cards.get(stream.streamId)
    if (card === undefined) {
      card = makeCard(stream)
      cards.set(stream.streamId, card)
    }
    renderStream(card, stream)
    // In the snapshot's order, moving a card only when it is out of place (a move would restart its video).
    const expected: Element | null = previous === null ? list.firstElementChild : previous.nextElementSibling
    if (expected !== card.root) list.insertBefore(card.root, expected)
    previous = card.root
  }
  byId("streams-empty").hidden = streams.length > 0
}

/** A table's rows, replaced whole (nothing in them holds focus or plays). */
const renderTable = <A>(id: string, rows: ReadonlyArray<A>, row: (item: A) => ReadonlyArray<Node | string>) => {
  const table = byId<HTMLTableElement>(id)
  table.hidden = rows.length === 0
  byId(`${id}-empty`).hidden = rows.length > 0
  table.tBodies[0]!.replaceChildren(
    ...rows.map((item) => h("tr", undefined, ...row(item).map((cell) => h("td", undefined, cell))))
  )
}

const callRow = (call: CallSummary): ReadonlyArray<Node | string> => [
  time(call.receivedAt),
  call.action ?? `${call.method} ${call.path}`,
  h(
    "ul",
    "params",
    ...call.params.map(([name, value]) => h("li", undefined, h("code", undefined, `${name}=${value}`)))
  ),
  call.code === undefined ? call.outcome ?? "…" : `${call.code} ${call.outcome ?? ""}`,
  call.latencyMillis === undefined ? "…" : `${call.latencyMillis} ms`,
  h("code", undefined, call.requestId),
  call.fault ?? "—"
]

const callbackRow = (callback: CallbackView): ReadonlyArray<Node | string> => [
  callback.closeType === undefined ? callback.event : `${callback.event} (type ${callback.closeType})`,
  callback.streamId,
  h("code", undefined, callback.target),
  callback.fault === undefined ? callback.status : `${callback.status} (fault: ${callback.fault})`,
  callback.attempts.length === 0
    ? "none"
    : h(
      "ol",
      "attempts",
      ...callback.attempts.map((attempt) =>
        h(
          "li",
          undefined,
          time(attempt.at),
          " ",
          attempt.status === undefined ? attempt.error ?? "no answer" : `HTTP ${attempt.status}`
        )
      )
    ),
  callback.nextAttemptAt === undefined ? "—" : time(callback.nextAttemptAt)
]

const renderRooms = (snapshot: Snapshot) => {
  byId("rooms-empty").hidden = snapshot.rooms.length > 0
  byId("rooms").replaceChildren(...snapshot.rooms.map((room) =>
    h(
      "section",
      "room",
      h("h3", undefined, room.roomId),
      room.streams.length === 0
        ? h("p", "empty", "No stream announced.")
        : h(
          "ul",
          undefined,
          ...room.streams.map((stream) =>
            h(
              "li",
              undefined,
              h("code", undefined, stream.streamId),
              ` by ${stream.userId}${stream.userName === undefined ? "" : ` (${stream.userName})`}`,
              stream.streamTitle === undefined ? "" : `: ${stream.streamTitle}`,
              ", since ",
              time(stream.announcedAt)
            )
          )
        )
    )
  ))
}

const render = (snapshot: Snapshot) => {
  byId("base-url").textContent = snapshot.baseUrl
  renderStreams(snapshot.streams)
  renderTable("calls", snapshot.calls, callRow)
  renderTable("callbacks", snapshot.callbacks, callbackRow)
  renderRooms(snapshot)
}

const connect = () => {
  const connection = byId("connection")
  if (token === "") {
    connection.textContent = "Not connected"
    notify("Open the dashboard's URL as the emulator printed it: it carries the token this page needs.")
    return
  }
  const events = new EventSource(`/events?token=${encodeURIComponent(token)}`)
  events.addEventListener("open", () => (connection.textContent = "Live"))
  events.addEventListener("error", () => (connection.textContent = "Disconnected: retrying…"))
  events.addEventListener("message", (event: MessageEvent<string>) => render(JSON.parse(event.data) as Snapshot))
}

connect()
