/**
 * A bounded record log: what the emulator remembers of each kind (requests, dispatches, `on_publish` checks, hook
 * calls, announcements, callbacks, relays), oldest first, at most `max` of them. It trims in batches (past 110 %
 * of `max`), so that adding stays cheap.
 *
 * @since 0.1.0
 */

/** The most records of one kind kept. */
export const MAX_RECORDS = 100_000

/** A log of records of one kind. */
export interface RecordLog<A> {
  /** Adds a record (kept by reference: a record filled in later shows its later state). */
  readonly add: (record: A) => void
  /** The records, oldest first: the last `max`, in a fresh array (the records themselves are not copied). */
  readonly all: () => ReadonlyArray<A>
  /** The last `count` records (at most `max`), oldest first, in a fresh array: cheap for a small `count`. */
  readonly recent: (count: number) => ReadonlyArray<A>
}

export const make = <A>(max: number = MAX_RECORDS): RecordLog<A> => {
  let records: Array<A> = []
  return {
    add: (record) => {
      records.push(record)
      if (records.length > max * 1.1) records = records.slice(-max)
    },
    all: () => records.slice(-max),
    recent: (count) => count <= 0 ? [] : records.slice(-Math.min(count, max))
  }
}
