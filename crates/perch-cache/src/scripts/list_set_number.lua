-- Sets a numeric field of the elements of one id in a cached collection
-- (e.g. likesCount of post X in timeline:public), atomically.
-- KEYS[1]: the collection; ARGV[1]: the id field; ARGV[2]: the id;
-- ARGV[3]: the field; ARGV[4]: the value (an integer, as text).
-- Only the matching elements are rewritten; keeps the TTL.
-- Returns how many elements changed, -3 when none had the id (nothing
-- written),
-- -1 when not cached, -2 when corrupt (deleted).
local text = redis.call('GET', KEYS[1])
if not text then return -1 end
local items = split_top(text, '[')
if not items then return corrupt(KEYS[1]) end
local changed = 0
for i, element in ipairs(items) do
  local id, ok = read_field(element, ARGV[1])
  if not ok then return corrupt(KEYS[1]) end
  if id == ARGV[2] then
    local members = split_top(element, '{')
    if not members then return corrupt(KEYS[1]) end
    items[i] = with_member(members, ARGV[3], ARGV[4])
    changed = changed + 1
  end
end
if changed == 0 then return -3 end
redis.call('SET', KEYS[1], '[' .. table.concat(items, ',') .. ']', 'KEEPTTL')
return changed
