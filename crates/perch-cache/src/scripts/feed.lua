-- One operation on a home feed, atomically (see store/feed.rs for the
-- layout: a sorted set, every score 0, read by lexical order).
-- KEYS[1]: the feed. ARGV[1]: the operation; the rest depends on it.
-- Replies: {0} missing; {1} a rebuild holds the key; {2, completeAbove,
-- entries, merged} a read; {3, n} an edit applied (n members changed).
local key = KEYS[1]
local op = ARGV[1]
local COMPLETE = '!complete-above:'

-- The state member sorts first: '!b:' < '!complete-above:' < '!dirty'.
local first = redis.call('ZRANGE', key, 0, 0)

if op == 'begin' then
  -- ARGV[2]: token, ARGV[3]: lease in ms.
  if #first > 0 then return {1} end
  redis.call('ZADD', key, 0, '!b:' .. ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3])
  return {3, 1}
end

if #first == 0 then return {0} end
local state = first[1]

if string.sub(state, 1, #COMPLETE) ~= COMPLETE then
  -- A rebuild holds the key.
  if op == 'finish' then
    -- ARGV[2]: token, ARGV[3]: TTL in ms, ARGV[4]: completeAbove (padded),
    -- ARGV[5]: k, ARGV[6..5+k]: merged authors, then the entries.
    if state ~= '!b:' .. ARGV[2] then return {1} end
    redis.call('DEL', key)
    redis.call('ZADD', key, 0, COMPLETE .. ARGV[4])
    local k = tonumber(ARGV[5])
    for i = 6, 5 + k do
      redis.call('ZADD', key, 0, '!m:' .. ARGV[i])
    end
    local batch = {}
    for i = 6 + k, #ARGV do
      batch[#batch + 1] = 0
      batch[#batch + 1] = ARGV[i]
      if #batch >= 512 then
        redis.call('ZADD', key, unpack(batch))
        batch = {}
      end
    end
    if #batch > 0 then redis.call('ZADD', key, unpack(batch)) end
    redis.call('PEXPIRE', key, ARGV[3])
    return {3, 1}
  end
  if op ~= 'read' and state ~= '!dirty' then
    -- A write while the feed is rebuilt: the rebuild's load may predate
    -- it, so it must not be stored.
    redis.call('ZREM', key, state)
    redis.call('ZADD', key, 0, '!dirty')
  end
  return {1}
end

local above = string.sub(state, #COMPLETE + 1)

if op == 'read' then
  -- ARGV[2]: max, ARGV[3]: min (BYLEX bounds), ARGV[4]: '1' newest first,
  -- ARGV[5]: count, ARGV[6]: TTL in ms, ARGV[7]: restart below (ms).
  local items
  if ARGV[4] == '1' then
    items = redis.call('ZRANGE', key, ARGV[2], ARGV[3], 'BYLEX', 'REV', 'LIMIT', 0, ARGV[5])
  else
    items = redis.call('ZRANGE', key, ARGV[3], ARGV[2], 'BYLEX', 'LIMIT', 0, ARGV[5])
  end
  local merged = redis.call('ZRANGE', key, '[!m:', '(!m;', 'BYLEX')
  local below = tonumber(ARGV[7])
  if below > 0 and redis.call('PTTL', key) < below then
    redis.call('PEXPIRE', key, ARGV[6])
  end
  return {2, above, items, merged}
end

if op == 'add' then
  -- ARGV[2]: cap, ARGV[3]: the account followed or '', then the entries.
  if ARGV[3] ~= '' then redis.call('ZREM', key, '!u:' .. ARGV[3]) end
  local added = 0
  for i = 4, #ARGV do
    local m = ARGV[i]
    if string.sub(m, 1, 19) > above
      and not redis.call('ZSCORE', key, '!u:' .. string.sub(m, 21)) then
      added = added + redis.call('ZADD', key, 0, m)
    end
  end
  local cap = tonumber(ARGV[2])
  local n = redis.call('ZLEXCOUNT', key, '[0', '+')
  if n > cap then
    local out = redis.call('ZRANGE', key, '[0', '+', 'BYLEX', 'LIMIT', 0, n - cap)
    redis.call('ZREM', key, unpack(out))
    redis.call('ZREM', key, state)
    redis.call('ZADD', key, 0, COMPLETE .. string.sub(out[#out], 1, 19))
  end
  return {3, added}
end

if op == 'remove' then
  local removed = 0
  for i = 2, #ARGV do
    removed = removed + redis.call('ZREM', key, ARGV[i])
  end
  return {3, removed}
end

if op == 'unfollow' then
  -- ARGV[2]: the account unfollowed.
  local suffix = ':' .. ARGV[2]
  local removed = redis.call('ZREM', key, '!m:' .. ARGV[2])
  for _, m in ipairs(redis.call('ZRANGE', key, '[0', '+', 'BYLEX')) do
    if string.sub(m, 20) == suffix then
      removed = removed + redis.call('ZREM', key, m)
    end
  end
  redis.call('ZADD', key, 0, '!u:' .. ARGV[2])
  return {3, removed}
end

if op == 'merge' then
  -- ARGV[2]: the account merged at read time.
  redis.call('ZREM', key, '!u:' .. ARGV[2])
  return {3, redis.call('ZADD', key, 0, '!m:' .. ARGV[2])}
end

if op == 'finish' then
  -- Built by another rebuild whose lease outlived ours: keep it.
  return {3, 0}
end

return redis.error_reply('ERR unknown feed operation ' .. op)
