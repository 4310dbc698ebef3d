package redisbroker

import "github.com/redis/go-redis/v9"

// The log of one prefix is two keys:
//
//	{prefix}:meta         hash: epoch (random, set once), seq (last assigned)
//	{prefix}:log:<epoch>  stream: entry <seq>-0 with fields t (ms) and m (frame)
//
// Only these scripts change them, so the epoch, the counter and the stream
// move together. A flushed or restarted Redis has no meta hash; the first
// script to notice creates a new epoch, whose log starts empty at seq 1.

// trimAge deletes entries older than cutoff (ms) from the head of a stream.
// Entries are in time order, so it stops at the first one young enough; the
// common case is one XRANGE of one entry.
const luaTrimAge = `
local function trimAge(log, cutoff)
  local head = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
  if #head == 0 or tonumber(head[1][2][2]) >= cutoff then return end
  while true do
    local es = redis.call('XRANGE', log, '-', '+', 'COUNT', 100)
    if #es == 0 then return end
    for _, e in ipairs(es) do
      if tonumber(e[2][2]) >= cutoff then
        redis.call('XTRIM', log, 'MINID', e[1])
        return
      end
    end
    local lastID = es[#es][1]
    local s = tonumber(string.match(lastID, '^(%d+)'))
    redis.call('XTRIM', log, 'MINID', string.format('%d-0', s + 1))
    if #es < 100 then return end
  end
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// openScript returns {epoch, seq}, creating the epoch if there is none,
// or a new one when the log was rolled back: its epoch is the caller's but
// its counter is below a seq the caller has seen (Redis restarted from an
// older snapshot, so the seqs after the counter would be given again to
// other messages).
//
//	KEYS[1] meta; ARGV[1] a fresh epoch, ARGV[2] the caller's epoch,
//	ARGV[3] the highest seq the caller has seen in it
var openScript = redis.NewScript(`
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
local r = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
local seq = tonumber(r[2] or '0')
if r[1] == ARGV[2] and seq < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 0)
  return {ARGV[1], 0}
end
return {r[1], seq}
`)

// publishScript appends the frames of ARGV[7..6+n] to the log as one
// unit, n = (#ARGV-6)/2, and returns {epoch, first seq, time ms, claimed
// 1..n}, or {epoch} alone when the log's epoch is neither ARGV[1] nor
// ARGV[2] (the caller's view is stale: retry). ARGV[6+n+i] is the Redis
// key of message i's idempotency key, or "": when that key holds an id
// (claimed within the window), message i is not appended and claimed[i]
// is that id ("<epoch> <seq>"); otherwise claimed[i] is "" and the
// message takes the next seq, counting from first. The key is set in the
// same script, so the claim and the append are one step. Like
// openScript, it starts a new epoch when the log was rolled back.
//
//	KEYS[1] meta, KEYS[2] log of ARGV[1], KEYS[3] log of ARGV[2]
//	ARGV[1] expected epoch, ARGV[2] fresh epoch to create if there is none,
//	ARGV[3] MAXLEN, ARGV[4] HistoryAge ms, ARGV[5] key TTL ms,
//	ARGV[6] "<the highest seq the caller has seen in ARGV[1]> <idempotency
//	window ms>", ARGV[7..6+n] frames, ARGV[7+n..6+2n] idempotency keys
var publishScript = redis.NewScript(luaTrimAge + `
local seen, window = string.match(ARGV[6], '^(%d+) (%d+)$')
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local log
if not epoch or (epoch == ARGV[1] and tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') < tonumber(seen)) then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  log = KEYS[3]
elseif epoch == ARGV[1] then
  log = KEYS[2]
elseif epoch == ARGV[2] then
  log = KEYS[3]
else
  return {epoch}
end
local n = (#ARGV - 6) / 2
local claimed = {}
local fresh = 0
for i = 1, n do
  local k = ARGV[6 + n + i]
  local id = false
  if k ~= '' then id = redis.call('GET', k) end
  if id then claimed[i] = id else claimed[i] = ''; fresh = fresh + 1 end
end
local ms = nowMs()
local first = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') + 1
if fresh > 0 then
  first = redis.call('HINCRBY', KEYS[1], 'seq', fresh) - fresh + 1
  local t = string.format('%d', ms)
  local seq = first
  for i = 1, n do
    if claimed[i] == '' then
      redis.call('XADD', log, 'MAXLEN', '~', ARGV[3], string.format('%d-0', seq), 't', t, 'm', ARGV[6 + i])
      local k = ARGV[6 + n + i]
      if k ~= '' then
        redis.call('SET', k, epoch .. ' ' .. seq, 'PX', window)
      end
      seq = seq + 1
    end
  end
  trimAge(log, ms - tonumber(ARGV[4]))
  redis.call('PEXPIRE', log, ARGV[5])
end
local out = {epoch, first, ms}
for i = 1, n do out[3 + i] = claimed[i] end
return out
`)

// headScript trims the log by age and returns {epoch, last seq, first
// retained seq}, or {epoch} alone when the epoch is not ARGV[1] ("" when
// there is none).
//
//	KEYS[1] meta, KEYS[2] log of ARGV[1]; ARGV[1] epoch, ARGV[2] HistoryAge ms
var headScript = redis.NewScript(luaTrimAge + `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then
  return {epoch or ''}
end
local last = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
trimAge(KEYS[2], nowMs() - tonumber(ARGV[2]))
local es = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local first = last + 1
if #es > 0 then
  first = tonumber(string.match(es[1][1], '^(%d+)'))
end
return {epoch, last, first}
`)
