-- Sets one field of a cached JSON object (e.g. lastActivity of a session),
-- atomically and only if the object is cached.
-- KEYS[1]: the object; ARGV[1]: the field; ARGV[2]: the value (JSON text);
-- ARGV[3]: a new TTL in milliseconds, or 0 to keep the current one.
-- Returns 1, -1 when not cached, -2 when corrupt (deleted).
local text = redis.call('GET', KEYS[1])
if not text then return -1 end
local members = split_top(text, '{')
if not members then return corrupt(KEYS[1]) end
local ok, obj = pcall(cjson.decode, text)
if not ok or type(obj) ~= 'table' then return corrupt(KEYS[1]) end
local updated = with_member(members, ARGV[1], ARGV[2])
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], updated, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], updated, 'PX', ARGV[3])
end
return 1
