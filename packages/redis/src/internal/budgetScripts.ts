/**
 * The Lua scripts of the shared budget (see `RedisRateLimit`): a sorted set of the calls in use, scored by when
 * each ended (while it runs, by when it was last seen running, a quarter window ahead). Each runs atomically.
 */
const NOW = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`

// A running call is scored a quarter window ahead, the time between two renewals: should it end unseen (its
// process died before the release), its score is still no earlier than its end, so its token never returns early.
const AHEAD = `
local function ahead(window) return now + math.floor(window / 4) end
`

// Keeps the key at least two windows, longer than any entry can still count (a window and a quarter past now): when
// fewer are left, three again, so that the expiry is set about once a window, not on every call. Never shortens it.
const EXTEND = `
local function extend(window)
  if redis.call("PTTL", KEYS[1]) < 2 * window then redis.call("PEXPIRE", KEYS[1], 3 * window) end
end
`

// KEYS[1]: the budget; ARGV: limit, window (ms), the number of calls that ended, their members, then the members of
// the calls that ask (at most MAX_MEMBERS in all). Scores each call that ended with its end time (if it is there),
// then lets each asking call in turn in while fewer than `limit` count.
// Returns, for each asking call, 0 (go: the call is in) or the ms until a token may be free (wait, then ask again).
export const ACQUIRE = `${NOW}${AHEAD}${EXTEND}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ended = tonumber(ARGV[3])
local changed = false
if ended > 0 then
  local args = { "XX", "CH" }
  for i = 4, 3 + ended do
    args[#args + 1] = now
    args[#args + 1] = ARGV[i]
  end
  changed = redis.call("ZADD", KEYS[1], unpack(args)) > 0
end
local answers = {}
if #ARGV > 3 + ended then
  redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
  local count = redis.call("ZCARD", KEYS[1])
  local wait
  for i = 4 + ended, #ARGV do
    if count < limit then
      -- In flight: it counts until a window after its score, and renewals keep it counting while the call runs.
      redis.call("ZADD", KEYS[1], ahead(window), ARGV[i])
      count = count + 1
      changed = true
      answers[#answers + 1] = 0
    else
      if wait == nil then
        -- A running call is renewed, and an ended one frees its token a window after it ended: ask again within a
        -- window.
        local first = redis.call("ZRANGE", KEYS[1], count - limit, count - limit, "WITHSCORES")
        wait = math.max(1, math.min(tonumber(first[2]) + window - now, window))
      end
      answers[#answers + 1] = wait
    end
  end
end
if changed then extend(window) end
return answers
`

// KEYS[1]: the budget; ARGV: window (ms), then the members of this process's running calls, scored ahead again.
export const RENEW = `${NOW}${AHEAD}${EXTEND}
local window = tonumber(ARGV[1])
for i = 2, #ARGV do
  local score = redis.call("ZSCORE", KEYS[1], ARGV[i])
  if score and tonumber(score) < ahead(window) then redis.call("ZADD", KEYS[1], ahead(window), ARGV[i]) end
end
extend(window)
return 0
`

/** The most members one script run names (Lua's `unpack` takes a few thousand values). */
export const MAX_MEMBERS = 500
