-- Compare-and-set: the write step of a cache edit computed in Perch
-- (store/cas.rs). Redis only compares and copies bytes here; it never
-- parses the JSON.
-- KEYS[1]: the value; ARGV[1]: the text the edit was computed from;
-- ARGV[2]: the new text; ARGV[3]: a TTL in milliseconds, or 0 to keep the
-- current one.
-- Returns 1 when written; otherwise the text the key holds now (nil when
-- it is gone), for the caller to edit that instead.
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return current end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
