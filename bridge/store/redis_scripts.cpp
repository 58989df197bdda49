#include "bridge/store/redis_scripts.hpp"

namespace bridge::store::redis_scripts {

namespace {

// Shared by every script: Redis's own clock (never a replica's) and the lease check.
//
// Numbers go to redis.call as strings made with string.format('%d'): Redis 7.0 writes a Lua number
// argument with snprintf("%.17g"), which costs more than many a command (0.2-0.4 us an argument,
// against ~0.2 us for '%d'; measured with redis-benchmark).
constexpr const char* prelude = R"lua(#!lua
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function tag(prefix, partition)
  return prefix .. ':{' .. partition .. '}:'
end
-- True when `owner` holds conversation `conv` with `fence` (and, if `live`, before the deadline).
local function owns(k, conv, owner, fence, live)
  local lease = redis.call('HMGET', k .. 'lease:' .. conv, 'owner', 'fence', 'until')
  if lease[1] ~= owner or lease[2] ~= fence then return false end
  if live and tonumber(lease[3]) < now_ms() then return false end
  return true
end
-- Appends the claimed messages of `ids` to `entry`: wamid, stored value, in doubt. (Every
-- redis.call costs Redis more than the command itself: the in-doubt set is read once.)
local function describe(k, conv, ids, entry)
  local doubt = {}
  for _, id in ipairs(redis.call('SMEMBERS', k .. 'doubt:' .. conv)) do doubt[id] = true end
  for _, id in ipairs(ids) do
    entry[#entry + 1] = id
    entry[#entry + 1] = redis.call('GET', k .. 'm:' .. id) or ''
    entry[#entry + 1] = doubt[id] and 1 or 0
  end
end
-- Calls redis.call(command, [key,] ...) with `values` spread over calls of at most 1,000 (unpack
-- has a bound; a conversation's backlog does not). Without `key`, the values are the keys (DEL).
local function each_chunk(command, key, values)
  for i = 1, #values, 1000 do
    if key then
      redis.call(command, key, unpack(values, i, math.min(i + 999, #values)))
    else
      redis.call(command, unpack(values, i, math.min(i + 999, #values)))
    end
  end
end
-- Moves every element of list `from` to the end of list `to`, in order; returns them. When `to`
-- is empty (a claim: nothing is held yet) the list is renamed, one step whatever its length.
local function move_all(from, to)
  local ids = redis.call('LRANGE', from, '0', '-1')
  if #ids == 0 then return ids end
  if redis.call('RENAMENX', from, to) == 0 then
    each_chunk('RPUSH', to, ids)
    redis.call('DEL', from)
  end
  return ids
end
-- Makes a conversation with waiting messages and no owner claimable. `waiting`: the length of its
-- waiting list when the caller knows it.
local function make_ready(k, conv, waiting)
  waiting = waiting or redis.call('LLEN', k .. 'q:' .. conv)
  if waiting > 0 and redis.call('EXISTS', k .. 'lease:' .. conv) == 0
      and redis.call('SADD', k .. 'readyset', conv) == 1 then
    redis.call('RPUSH', k .. 'ready', conv)
  end
end
-- Finishes the held messages named from ARGV[first] on: each leaves the held list, its stored value
-- goes and its capacity (KEYS[1]) is freed once, however often this runs.
local function finish_held(k, conv, first)
  for a = first, #ARGV do
    local id = ARGV[a]
    if redis.call('LREM', k .. 'held:' .. conv, 1, id) == 1 then
      redis.call('DECR', KEYS[1])
      redis.call('DEL', k .. 'm:' .. id)
    end
    redis.call('SREM', k .. 'begun:' .. conv, id)
    redis.call('SREM', k .. 'doubt:' .. conv, id)
  end
end
-- Ends a claim's lease: deletes what the claim keeps (its held list, begun set and lease) and the
-- keys in `also`, in as few steps as unpack allows, and takes it off the partition's leases.
local function end_lease(k, conv, also)
  also[#also + 1] = k .. 'held:' .. conv
  also[#also + 1] = k .. 'begun:' .. conv
  also[#also + 1] = k .. 'lease:' .. conv
  each_chunk('DEL', nil, also)
  redis.call('ZREM', k .. 'leases', conv)
end
-- Gives a conversation's held messages back to its waiting list (before newer ones, in order);
-- those whose send had begun are in doubt from now on.
local function hand_back(k, conv)
  local held = redis.call('LRANGE', k .. 'held:' .. conv, '0', '-1')
  for i = #held, 1, -1 do redis.call('LPUSH', k .. 'q:' .. conv, held[i]) end
  for _, id in ipairs(redis.call('SMEMBERS', k .. 'begun:' .. conv)) do
    redis.call('SADD', k .. 'doubt:' .. conv, id)
  end
  end_lease(k, conv, {})
end
)lua";

queue::redis::script with_prelude(const char* body) {
  return queue::redis::script(std::string(prelude) + body);
}

}  // namespace

const queue::redis::script& admit() {
  static const queue::redis::script s = with_prelude(R"lua(
local prefix, capacity, ttl, n = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local now = now_ms()
local now_text = string.format('%d', now)
local out = {}
local full = false
-- Meta's 24-hour window runs from when the customer wrote, not from when Meta delivered it (a
-- retried delivery can arrive a day late); a message without a date counts from now.
-- Times go to Redis as the strings they came as: a Lua number is written with "%.17g", which
-- costs more than the SET.
local function note_last(k, conv, written)
  local at, text = tonumber(written) or 0, written
  if at <= 0 then at, text = now, now_text end
  local key = k .. 'last:' .. conv
  -- Usually the newest: one step; a message older than the one remembered puts that one back.
  local before = redis.call('SET', key, text, 'EX', '90000', 'GET')
  if before and tonumber(before) > at then redis.call('SET', key, before, 'EX', '90000') end
end
-- Every redis.call costs Redis more than its command: the usual path (a new message to answer)
-- takes one step each for dedupe and capacity, and undoes them on the rare refusal instead.
for i = 0, n - 1 do
  local a = 5 + i * 6
  local k, id, conv, answer, payload = tag(prefix, ARGV[a]), ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
                                       ARGV[a + 4]
  local written = ARGV[a + 5]
  local seen = k .. 'seen:' .. id
  if full then
    out[#out + 1] = 'full'
  elseif not redis.call('SET', seen, '1', 'NX', 'EX', ttl) then
    out[#out + 1] = 'dup'
  elseif answer == '0' then
    note_last(k, conv, written)
    out[#out + 1] = 'kept'
  elseif redis.call('EXISTS', k .. 'pause:' .. conv) == 1 then
    -- Handed to a person: remembered, never answered by the AI.
    note_last(k, conv, written)
    out[#out + 1] = 'paused'
  elseif redis.call('INCR', KEYS[1]) > capacity then
    -- This message and every later one of the delivery are refused, and not remembered: Meta's
    -- retry brings them again, in order.
    redis.call('DECR', KEYS[1])
    redis.call('DEL', seen)
    full = true
    out[#out + 1] = 'full'
  else
    redis.call('SET', k .. 'm:' .. id, payload)
    note_last(k, conv, written)
    make_ready(k, conv, redis.call('RPUSH', k .. 'q:' .. conv, id))
    out[#out + 1] = 'stored'
  end
end
return out
)lua");
  return s;
}

const queue::redis::script& claim() {
  static const queue::redis::script s = with_prelude(R"lua(
local prefix, owner, lease, want = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local partitions, first = tonumber(ARGV[5]), tonumber(ARGV[6])
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local now_text, until_text = string.format('%d', now), string.format('%d', now + lease)
local claims = {}
-- The next fencing number: above every number of the partition, and at least Redis's clock in
-- microseconds, so that after a failover that lost claims (asynchronous replication) no number
-- is handed out twice (an owner's stale claim never matches its new one). Kept as an integer
-- string: Lua numbers are doubles, exact to 2^53. The clock is nearly always ahead of the last
-- number: one step, and a second only when it is not.
local function next_fence(k)
  local fence = now_us
  local last = tonumber(redis.call('SET', k .. 'fence', string.format('%d', fence), 'GET'))
  if last and last >= fence then
    fence = last + 1
    redis.call('SET', k .. 'fence', string.format('%d', fence))
  end
  return string.format('%d', fence)
end
local function take(k, p, conv, took_over)
  local ids = move_all(k .. 'q:' .. conv, k .. 'held:' .. conv)
  if #ids == 0 then return end
  local fence = next_fence(k)
  redis.call('HSET', k .. 'lease:' .. conv, 'owner', owner, 'fence', fence, 'until', until_text)
  redis.call('ZADD', k .. 'leases', until_text, conv)
  local entry = {conv, tostring(p), fence, took_over, redis.call('EXISTS', k .. 'pause:' .. conv)}
  describe(k, conv, ids, entry)
  claims[#claims + 1] = entry
end
for i = 0, partitions - 1 do
  if #claims >= want then break end
  local p = (first + i) % partitions
  local k = tag(prefix, p)
  -- Expired leases first: their owner died, froze or lost Redis.
  local expired = redis.call('ZRANGEBYSCORE', k .. 'leases', '-inf', now_text, 'LIMIT', '0',
                             want - #claims)
  for _, conv in ipairs(expired) do
    hand_back(k, conv)
    redis.call('SREM', k .. 'readyset', conv)
    take(k, p, conv, 1)
  end
  while #claims < want do
    local conv = redis.call('LPOP', k .. 'ready')
    if not conv then break end
    redis.call('SREM', k .. 'readyset', conv)
    if redis.call('EXISTS', k .. 'lease:' .. conv) == 0 then take(k, p, conv, 0) end
  end
end
return claims
)lua");
  return s;
}

const queue::redis::script& renew() {
  static const queue::redis::script s = with_prelude(R"lua(
local prefix, owner, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local out = {}
for a = 4, #ARGV, 3 do
  local k, conv, fence = tag(prefix, ARGV[a]), ARGV[a + 1], ARGV[a + 2]
  if owns(k, conv, owner, fence, false) then
    redis.call('HSET', k .. 'lease:' .. conv, 'until', now + lease)
    redis.call('ZADD', k .. 'leases', now + lease, conv)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
)lua");
  return s;
}

const queue::redis::script& begin_send() {
  static const queue::redis::script s = with_prelude(R"lua(
local k, conv, owner, fence = tag(ARGV[1], ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if not owns(k, conv, owner, fence, true) then return 0 end
if redis.call('EXISTS', k .. 'pause:' .. conv) == 1 then return 2 end
for a = 6, #ARGV do redis.call('SADD', k .. 'begun:' .. conv, ARGV[a]) end
return 1
)lua");
  return s;
}

const queue::redis::script& finish() {
  static const queue::redis::script s = with_prelude(R"lua(
local k, conv, owner, fence = tag(ARGV[1], ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if not owns(k, conv, owner, fence, false) then return 0 end
finish_held(k, conv, 6)
return 1
)lua");
  return s;
}

const queue::redis::script& release() {
  static const queue::redis::script s = with_prelude(R"lua(
local k, conv, owner, fence = tag(ARGV[1], ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if not owns(k, conv, owner, fence, false) then return 0 end
local held_key = k .. 'held:' .. conv
local finishing = {}
for a = 6, #ARGV do finishing[ARGV[a]] = true end
local stored, unfinished = {}, 0
for _, id in ipairs(redis.call('LRANGE', held_key, '0', '-1')) do
  if finishing[id] then stored[#stored + 1] = k .. 'm:' .. id else unfinished = unfinished + 1 end
end
if unfinished == 0 then
  -- The usual end of a claim: everything held is finished, so nothing goes back to the waiting
  -- list and nothing is in doubt any more (only held messages can be). A few steps, whatever
  -- the claim held: every redis.call costs Redis more than its command.
  if #stored > 0 then redis.call('DECRBY', KEYS[1], string.format('%d', #stored)) end
  stored[#stored + 1] = k .. 'doubt:' .. conv
  end_lease(k, conv, stored)
else
  finish_held(k, conv, 6)
  hand_back(k, conv)
end
make_ready(k, conv)
return 1
)lua");
  return s;
}

const queue::redis::script& take_more() {
  static const queue::redis::script s = with_prelude(R"lua(
local k, conv, owner, fence = tag(ARGV[1], ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if not owns(k, conv, owner, fence, true) then return {0} end
local ids = move_all(k .. 'q:' .. conv, k .. 'held:' .. conv)
local out = {1, redis.call('EXISTS', k .. 'pause:' .. conv)}
describe(k, conv, ids, out)
return out
)lua");
  return s;
}

const queue::redis::script& reserve_send() {
  static const queue::redis::script s(R"lua(#!lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval = math.floor(1000000 / math.max(1, rate))
local tolerance = interval * (burst - 1)
-- An idle number earns no more than its burst: its schedule restarts at now.
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local send_at = math.max(now, start - tolerance)
-- Kept as long as the schedule reaches into the future (senders wait that long), a minute at
-- least: forgotten earlier, the next reservation would start again at now, beside slots taken.
local keep = math.max(60000, math.ceil((start + interval - now) / 1000) + 1000)
redis.call('SET', KEYS[1], string.format('%d', start + interval), 'PX', string.format('%d', keep))
return send_at - now
)lua");
  return s;
}

const queue::redis::script& pause() {
  static const queue::redis::script s(R"lua(#!lua
local key, index, conv = KEYS[1], KEYS[2], ARGV[1]
local json, until_ms, why = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = redis.call('GET', key)
if current and why == 'echo' then
  -- An echo extends a running pause and never shortens it.
  local running = cjson.decode(current)
  if tonumber(running['until_ms']) >= until_ms then return current end
  local merged = cjson.decode(json)
  merged['since'], merged['since_ms'], merged['why'] = running['since'], running['since_ms'],
                                                     running['why']
  json = cjson.encode(merged)
end
if until_ms <= now then
  redis.call('DEL', key)
  redis.call('ZREM', index, conv)
  return json
end
redis.call('SET', key, json, 'PXAT', until_ms)
redis.call('ZADD', index, until_ms, conv)
return json
)lua");
  return s;
}

const queue::redis::script& add_dead_letter() {
  static const queue::redis::script s(R"lua(#!lua
local order, data = KEYS[1], KEYS[2]
local id, at_ms, json, max, oldest_ms = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]),
                                        tonumber(ARGV[5])
redis.call('HSET', data, id, json)
redis.call('ZADD', order, at_ms, id)
local dropped = 0
for _, old in ipairs(redis.call('ZRANGEBYSCORE', order, '-inf', '(' .. oldest_ms)) do
  redis.call('HDEL', data, old)
  dropped = dropped + 1
end
redis.call('ZREMRANGEBYSCORE', order, '-inf', '(' .. oldest_ms)
while redis.call('ZCARD', order) > max do
  local popped = redis.call('ZPOPMIN', order)
  redis.call('HDEL', data, popped[1])
  dropped = dropped + 1
end
return dropped
)lua");
  return s;
}

const queue::redis::script& replay() {
  static const queue::redis::script s = with_prelude(R"lua(
local order, data, unfinished = KEYS[1], KEYS[2], KEYS[3]
local id, k, conv, stored = ARGV[1], tag(ARGV[2], ARGV[3]), ARGV[4], ARGV[5]
if redis.call('HDEL', data, id) == 0 then return 0 end
redis.call('ZREM', order, id)
redis.call('SET', k .. 'm:' .. id, stored)
redis.call('RPUSH', k .. 'q:' .. conv, id)
redis.call('INCR', unfinished)
make_ready(k, conv)
return 1
)lua");
  return s;
}

}  // namespace bridge::store::redis_scripts
