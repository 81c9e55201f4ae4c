/**
 * The rooms the emulator knows (from its options or `createRoom`) and the streams announced in them with
 * `AddStream` and withdrawn with `DeleteStream`. A stream id is announced in one room by one user at a time (stream
 * ids are unique per AppId while published): another user, or another room, operating it answers 1012. At most
 * `capacity` announcements are held; an `AddStream` past that answers 123 (setting stream info failed). Each
 * announced stream has a number (`StreamNumberId` in a room's list), kept while it stays announced.
 */
import { ROOM_NOT_FOUND, SET_STREAM_FAILED, SEVERAL_USERS, STREAM_INFO_NOT_FOUND } from "./codes.js"

/** A stream announced in a room, as `AddStream` gave it. */
export interface Announced {
  readonly roomId: string
  readonly userId: string
  readonly userName: string | undefined
  readonly streamId: string
  readonly streamTitle: string | undefined
  readonly extraInfo: string | undefined
  readonly censorFlag: 0 | 1 | undefined
  /** When it was (last) announced, in ms by the emulator's `Clock`. */
  readonly announcedAt: number
}

/** A stream of a room's list (`DescribeSimpleStreamList`): its announcement and its number. */
export interface Listed {
  readonly announced: Announced
  /** A uint32, unique among the streams announced now. */
  readonly streamNumberId: number
}

/** What an `AddStream` / `DeleteStream` did: done, or the code it answers and why. */
export type Outcome =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Refused"; readonly code: number; readonly reason: string }

export interface Rooms {
  readonly create: (roomId: string) => void
  readonly has: (roomId: string) => boolean
  readonly add: (announced: Announced) => Outcome
  readonly remove: (roomId: string, userId: string, streamId: string) => Outcome
  /** The announcement of a stream now, if any. */
  readonly find: (streamId: string) => Announced | undefined
  /** The streams announced now, in the order they were announced. */
  readonly announced: () => ReadonlyArray<Announced>
  /** The streams announced now in one room, in the order they were announced (none for a room it does not know). */
  readonly list: (roomId: string) => ReadonlyArray<Listed>
  /** The first `max` rooms known, in the order they were made. */
  readonly ids: (max: number) => ReadonlyArray<string>
}

const refused = (code: number, reason: string): Outcome => ({ _tag: "Refused", code, reason })

export const make = (initial: ReadonlyArray<string>, capacity = 100_000): Rooms => {
  const rooms = new Set(initial)
  /** stream id -> its announcement (one room at a time). */
  const streams = new Map<string, Announced>()
  /** room id -> its streams' ids and numbers, in the order they were announced. */
  const byRoom = new Map<string, Map<string, number>>()
  // Numbers wrap at 2^32; with at most `capacity` streams held, a number is not reused while its stream is.
  let nextNumber = 1
  const unlist = (roomId: string, streamId: string) => {
    const room = byRoom.get(roomId)
    room?.delete(streamId)
    if (room !== undefined && room.size === 0) byRoom.delete(roomId)
  }
  return {
    create: (roomId) => void rooms.add(roomId),
    has: (roomId) => rooms.has(roomId),
    add: (announced) => {
      if (!rooms.has(announced.roomId)) {
        return refused(ROOM_NOT_FOUND, `room ${announced.roomId} does not exist (AddStream cannot create one)`)
      }
      const current = streams.get(announced.streamId)
      if (current !== undefined && (current.userId !== announced.userId || current.roomId !== announced.roomId)) {
        return refused(
          SEVERAL_USERS,
          `stream ${announced.streamId} is announced in room ${current.roomId} by user ${current.userId}`
        )
      }
      if (current === undefined && streams.size >= capacity) {
        return refused(SET_STREAM_FAILED, `the emulator already holds ${capacity} announced streams`)
      }
      streams.delete(announced.streamId)
      streams.set(announced.streamId, announced)
      let room = byRoom.get(announced.roomId)
      if (room === undefined) {
        room = new Map()
        byRoom.set(announced.roomId, room)
      }
      const number = room.get(announced.streamId)
      if (number === undefined) {
        room.set(announced.streamId, nextNumber)
        nextNumber = nextNumber === 4_294_967_295 ? 1 : nextNumber + 1
      } else {
        // Announced again: last in the order, as in `announced()`, with its number.
        room.delete(announced.streamId)
        room.set(announced.streamId, number)
      }
      return { _tag: "Done" }
    },
    remove: (roomId, userId, streamId) => {
      if (!rooms.has(roomId)) return refused(ROOM_NOT_FOUND, `room ${roomId} does not exist`)
      const current = streams.get(streamId)
      if (current === undefined || current.roomId !== roomId) {
        return refused(STREAM_INFO_NOT_FOUND, `stream ${streamId} is not announced in room ${roomId}`)
      }
      if (current.userId !== userId) {
        return refused(SEVERAL_USERS, `stream ${streamId} was announced by user ${current.userId}, not ${userId}`)
      }
      streams.delete(streamId)
      unlist(roomId, streamId)
      return { _tag: "Done" }
    },
    find: (streamId) => streams.get(streamId),
    announced: () => [...streams.values()],
    list: (roomId) =>
      [...(byRoom.get(roomId) ?? [])].map(([streamId, streamNumberId]) => ({
        announced: streams.get(streamId)!,
        streamNumberId
      })),
    ids: (max) => {
      const ids: Array<string> = []
      for (const roomId of rooms) {
        if (ids.length >= max) break
        ids.push(roomId)
      }
      return ids
    }
  }
}
