-- Removes the elements of one id from a cached collection, atomically.
-- KEYS[1]: the collection; ARGV[1]: the id field; ARGV[2]: the id.
-- Keeps the TTL; an emptied collection is stored as [] (never {}).
-- Returns the new length, -1 when not cached, -2 when corrupt (deleted),
-- -3 when no element had that id (nothing written).
local text = redis.call('GET', KEYS[1])
if not text then return -1 end
local items = split_top(text, '[')
if not items then return corrupt(KEYS[1]) end
local out = {}
for _, element in ipairs(items) do
  local id, ok = read_field(element, ARGV[1])
  if not ok then return corrupt(KEYS[1]) end
  if id ~= ARGV[2] then out[#out + 1] = element end
end
if #out == #items then return -3 end
redis.call('SET', KEYS[1], '[' .. table.concat(out, ',') .. ']', 'KEEPTTL')
return #out
