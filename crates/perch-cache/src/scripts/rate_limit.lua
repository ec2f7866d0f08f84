-- One sliding-window rate-limit check, atomically (see ratelimit.rs).
-- KEYS[1]: the log, a sorted set of the accepted requests scored by their
-- time in microseconds. ARGV[1]: the limit; ARGV[2]: the window in
-- microseconds; ARGV[3]: a nonce making each member unique.
-- The time is the Redis server's, so several Perch processes share one
-- clock (allowed before writes since Redis 5: scripts replicate effects).
-- Returns { allowed (0/1), count, oldest, newest, now } (times in µs).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
-- Numbers are passed to Redis as %d text: Lua's default formatting of a
-- 16-digit number is %.14g and would lose the microseconds.
local edge = string.format('%d', now - window)
-- Keep the closed window [now - window, now].
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. edge)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  local stamp = string.format('%d', now)
  redis.call('ZADD', KEYS[1], stamp, stamp .. '-' .. ARGV[3])
  count = count + 1
  allowed = 1
end
local oldest, newest = now, now
if count > 0 then
  oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  -- Every check renews the TTL, so the log can never outlive a crash.
  redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(window / 1000) + 1))
end
return { allowed, count, oldest, newest, now }
