// The registry's writes as Lua scripts: each runs atomically inside Redis, bumps the one
// change version, and publishes the record it wrote in the same step, so the order of change
// messages is the order of versions and a subscriber can tell when it missed one.
// Every script takes ARGV[1] = key prefix; keys are derived from it (a hash tag in the
// prefix keeps them in one slot).
#pragma once

namespace sg::registry::redis_scripts {

// Shared by every script: publish a change message and return it to the caller, who
// announces the same text it published.
inline constexpr const char* kPrelude = R"lua(
local p = ARGV[1]
-- The store's history gets an identity (its epoch) with its first write, so a store that
-- restarted empty or was flushed is seen as a new history by every router.
local function next_version()
  local v = redis.call('INCR', p .. 'version')
  if v == 1 or redis.call('EXISTS', p .. 'epoch') == 0 then
    local t = redis.call('TIME')
    redis.call('SET', p .. 'epoch', t[1] .. '.' .. t[2])
  end
  return v
end
local function publish(v, kind, id, key)
  local f = {}
  if key then
    local a = redis.call('HGETALL', key)
    for i = 1, #a, 2 do
      if a[i] ~= 'lidx' then f[a[i]] = a[i + 1] end  -- the label index is Redis-internal
    end
  end
  local msg = cjson.encode({v = string.format('%d', v), k = kind, id = id, f = f})
  redis.call('PUBLISH', p .. 'changes', msg)
  return msg
end
local function delete_session(id)
  local key = p .. 's:' .. id
  local lidx = redis.call('HGET', key, 'lidx')
  if redis.call('DEL', key) == 0 then return false end
  if lidx then
    for suffix in string.gmatch(lidx, '%S+') do redis.call('ZREM', p .. 'l:' .. suffix, id) end
  end
  redis.call('ZREM', p .. 'sessions', id)
  return publish(next_version(), 'sd', id, nil)
end
)lua";

// ARGV: p, id, address, status, lease_ttl, now
inline constexpr const char* kPutContainer = R"lua(
local id, now = ARGV[2], ARGV[6]
local key = p .. 'c:' .. id
local prev = redis.call('HMGET', key, 'generation', 'created_at')
local gen = (tonumber(prev[1]) or 0) + 1
local v = next_version()
redis.call('HSET', key, 'address', ARGV[3], 'status', ARGV[4], 'generation', string.format('%d', gen),
  'lease_ttl', ARGV[5], 'heartbeat_at', now, 'created_at', prev[2] or now, 'updated_at', now,
  'version', string.format('%d', v))
redis.call('ZADD', p .. 'containers', 0, id)
return publish(v, 'c', id, key)
)lua";

// ARGV: p, id, now. Nil when the container does not exist.
inline constexpr const char* kHeartbeat = R"lua(
local id, now = ARGV[2], ARGV[3]
local key = p .. 'c:' .. id
if redis.call('EXISTS', key) == 0 then return false end
local v = next_version()
redis.call('HSET', key, 'heartbeat_at', now, 'updated_at', now, 'version', string.format('%d', v))
return publish(v, 'c', id, key)
)lua";

// ARGV: p, id. Nil when the container does not exist.
inline constexpr const char* kDeleteContainer = R"lua(
local id = ARGV[2]
if redis.call('DEL', p .. 'c:' .. id) == 0 then return false end
redis.call('ZREM', p .. 'containers', id)
return publish(next_version(), 'cd', id, nil)
)lua";

// ARGV: p, id, container_id, labels_json, idle_ttl, expires_at, access, link_epoch, now,
// label index suffixes (space separated), sleep_after
inline constexpr const char* kPutSession = R"lua(
local id, now = ARGV[2], ARGV[9]
local key = p .. 's:' .. id
local prev = redis.call('HMGET', key, 'created_at', 'last_active_at', 'link_epoch', 'lidx')
local last = math.max(tonumber(prev[2]) or 0, tonumber(now))
local epoch = math.max(tonumber(prev[3]) or 0, tonumber(ARGV[8]))
if prev[4] then
  for suffix in string.gmatch(prev[4], '%S+') do redis.call('ZREM', p .. 'l:' .. suffix, id) end
end
for suffix in string.gmatch(ARGV[10], '%S+') do redis.call('ZADD', p .. 'l:' .. suffix, 0, id) end
local v = next_version()
redis.call('HSET', key, 'container_id', ARGV[3], 'labels', ARGV[4], 'idle_ttl', ARGV[5],
  'expires_at', ARGV[6], 'access', ARGV[7], 'link_epoch', string.format('%d', epoch),
  'last_active_at', string.format('%d', last), 'created_at', prev[1] or now, 'updated_at', now,
  'version', string.format('%d', v), 'lidx', ARGV[10], 'sleep_after', ARGV[11])
redis.call('ZADD', p .. 'sessions', 0, id)
return publish(v, 's', id, key)
)lua";

// ARGV: p, lease name, owner. Deletes the lease only while that owner holds it.
inline constexpr const char* kReleaseLease = R"lua(
local key = p .. 'lease:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then return redis.call('DEL', key) end
return 0
)lua";

// ARGV: p, id. Nil when the session does not exist.
inline constexpr const char* kDeleteSession = R"lua(
return delete_session(ARGV[2])
)lua";

// ARGV: p, then id, at pairs. Raises last_active_at, never lowers it; not a change.
inline constexpr const char* kTouch = R"lua(
for i = 2, #ARGV, 2 do
  local key = p .. 's:' .. ARGV[i]
  local cur = redis.call('HGET', key, 'last_active_at')
  if cur and tonumber(ARGV[i + 1]) > tonumber(cur) then
    redis.call('HSET', key, 'last_active_at', ARGV[i + 1])
  end
end
return #ARGV / 2
)lua";

// ARGV: p, now, ids... Returns per id {outcome, detail}: 'gone', 'live' + last_active_at,
// 'idle' / 'expired' + the published deletion.
inline constexpr const char* kExpire = R"lua(
local now = tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local r = redis.call('HMGET', p .. 's:' .. id, 'idle_ttl', 'expires_at', 'last_active_at')
  if not r[3] then
    out[#out + 1] = {'gone', ''}
  else
    local idle, expires, last = tonumber(r[1]), tonumber(r[2]), tonumber(r[3])
    if expires > 0 and now >= expires then
      out[#out + 1] = {'expired', delete_session(id)}
    elseif idle > 0 and now - last >= idle then
      out[#out + 1] = {'idle', delete_session(id)}
    else
      out[#out + 1] = {'live', r[3]}
    end
  end
end
return out
)lua";

}  // namespace sg::registry::redis_scripts
