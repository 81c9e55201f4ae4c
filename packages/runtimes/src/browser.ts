/** The program in a browser page: the page calls `dispatchOnce(input)` (what a local tool or test page would do). */
import { dispatchOnce } from "./dispatch.js"

Object.assign(globalThis, { dispatchOnce })
